// Shared by every attnlib widget: this file is concatenated in front of each
// widget's own module (see _base.py), so its names are in scope there.
// The math mirrors attnlib/scores.py and attnlib/softmax.py line for line;
// tests check that both give the same numbers.

const SVG_NS = "http://www.w3.org/2000/svg";

/** Create an HTML element: h("div", {class: "x"}, child, "text"). Text is never parsed as HTML. */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  return fill(node, attrs, children);
}

/** Create an SVG element, same calling convention as h(). */
function s(tag, attrs = {}, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

function fill(node, attrs, children) {
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

/**
 * The widget's words in the reader's language: `const t = translator(model)`, then
 * t("query.help") or t("query.keyAt", {label, x, y}) (each {name} filled from the second
 * argument; with n === 1 the key's "_one" form, if the table has it). The tables travel with
 * the widget (trait `messages`, {en: {...}, zh: {...}}, from attnlib/widgets/messages.py);
 * `language` picks one: a trait in a live kernel, the page's <html lang> in the static book.
 */
function translator(model) {
  const tables = model.get("messages") || {}, english = tables.en || {};
  const table = tables[model.get("language")] || english;
  return (key, args = {}) => {
    const one = args.n === 1 && (key + "_one") in english ? key + "_one" : key;
    const text = table[one] ?? english[one] ?? key;
    return text.replace(/\{(\w+)\}/g, (m, name) => (name in args ? String(args[name]) : m));
  };
}

/** The BCP 47 tag of a widget language, for the lang attribute ("zh" -> "zh-CN"). */
const LANG_TAGS = { en: "en", zh: "zh-CN" };

/** A number for display: fixed digits, and "−" as the minus sign. */
function fmt(x, digits = 3) {
  return x.toFixed(digits).replace("-", "\u2212");
}

const dotv = (a, b) => a.reduce((acc, ai, i) => acc + ai * b[i], 0);
const norm = (a) => Math.sqrt(dotv(a, a));
const matvec = (M, x) => M.map((row) => dotv(row, x));

/** Score functions by name; `params` holds learned matrices for general/additive. */
const SCORE_FNS = {
  dot: (q, k) => dotv(q, k),
  scaled_dot: (q, k) => dotv(q, k) / Math.sqrt(q.length),
  cosine: (q, k) => dotv(q, k) / ((norm(q) + 1e-12) * (norm(k) + 1e-12)),
  general: (q, k, p) => dotv(q, matvec(p.general_W, k)),
  additive: (q, k, p) => {
    const a = matvec(p.additive_Wq, q), b = matvec(p.additive_Wk, k);
    return a.reduce((acc, ai, i) => acc + p.additive_v[i] * Math.tanh(ai + b[i]), 0);
  },
};

/**
 * Stable softmax of scores / temperature; masked entries (mask[i] false) get 0, and a row
 * with every entry masked gets all zeros. The arguments come in the order of
 * attnlib.softmax(scores, mask, temperature).
 */
function softmax(scores, mask = null, temperature = 1) {
  const keep = (i) => !mask || mask[i];
  const z = scores.map((x) => x / temperature);
  let top = -Infinity;
  z.forEach((x, i) => { if (keep(i) && x > top) top = x; });
  if (!Number.isFinite(top)) return z.map(() => 0);
  const e = z.map((x, i) => (keep(i) ? Math.exp(x - top) : 0));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / total);
}

/** Weighted sum of value vectors: sum_i w_i v_i. */
function weightedSum(weights, values) {
  return values[0].map((_, j) => weights.reduce((acc, w, i) => acc + w * values[i][j], 0));
}

/** Scores, weights and context for one query: the whole recipe in three lines. */
function attend(query, keys, values, scoreName, temperature, params) {
  const scores = keys.map((k) => SCORE_FNS[scoreName](query, k, params));
  const weights = softmax(scores, null, temperature);
  return { scores, weights, context: weightedSum(weights, values) };
}

/*
 * Redraws touch the page only where something changed: rewriting an equal text, attribute
 * or style still makes the browser restyle and lay out the node again. These setters
 * compare first (a redraw of a widget is then a few dozen changes, not a few hundred).
 */
/** node.textContent = text, if it differs. */
function setText(node, text) {
  const value = String(text);
  if (node.textContent !== value) node.textContent = value;
}

/** node.setAttribute(name, value), if it differs. */
function setAttr(node, name, value) {
  const v = String(value);
  if (node.getAttribute(name) !== v) node.setAttribute(name, v);
}

/** node.style.setProperty(prop, value), if it differs. */
function setStyle(node, prop, value) {
  const v = String(value);
  if (node.style.getPropertyValue(prop) !== v) node.style.setProperty(prop, v);
}

/**
 * Give `parent` exactly `n` children, keeping the first ones: make(i) creates child i when
 * there are too few, the last ones go when there are too many. Returns the children, in order.
 */
function keepChildren(parent, n, make) {
  while (parent.children.length > n) parent.lastElementChild.remove();
  for (let i = parent.children.length; i < n; i++) parent.append(make(i));
  return [...parent.children];
}

/** Index of the largest entry (the first one on ties): numpy's argmax. */
function argmax(xs) {
  return xs.reduce((best, x, i) => (x > xs[best] ? i : best), 0);
}

/** A labelled range slider; calls onInput(value) as it moves. */
function slider(label, { min, max, step, value, onInput, format = (v) => fmt(v, 2) }) {
  const out = h("output", {}, format(value));
  const input = h("input", { type: "range", min, max, step, value, "aria-label": label });
  input.addEventListener("input", () => { out.textContent = format(+input.value); onInput(+input.value); });
  return { node: h("label", { class: "aw-control" }, label + " ", input, out), input, out };
}

/** "0.81·昨天 + 0.07·我 + …": a context as a weighted mix of tokens, the `terms` largest first. */
function mixText(tokens, weights, terms) {
  const order = weights.map((_, i) => i).sort((a, b) => weights[b] - weights[a] || a - b);
  const parts = order.slice(0, terms).map((i) => `${fmt(weights[i], 2)}·${tokens[i]}`);
  if (order.length > terms) parts.push("…");
  return parts.join(" + ");
}

/**
 * Arrow keys, Home and End move the choice along a row of tokens (a roving tabindex):
 * `current()` is the chosen index, `count()` the number of tokens, and `choose(i)` makes
 * token i the chosen one (clamping i) and moves the focus to it.
 */
function arrowKeysChoose(row, { current, count, choose }) {
  row.addEventListener("keydown", (ev) => {
    const i = current(), last = count() - 1;
    const next = { ArrowLeft: i - 1, ArrowUp: i - 1, ArrowRight: i + 1, ArrowDown: i + 1,
      Home: 0, End: last }[ev.key];
    if (next === undefined) return;
    ev.preventDefault();
    ev.stopPropagation(); // the widget's key: the page's own shortcuts need not look at it
    choose(next);
  });
}

/** Horizontal centres of the `from` and `to` nodes, in the coordinates of the svg `band`. */
function tokenCentres(band, from, to) {
  const box = band.getBoundingClientRect();
  const mid = (node) => { const r = node.getBoundingClientRect(); return r.left + r.width / 2 - box.left; };
  return { from: from.map(mid), to: to.map(mid) };
}

/**
 * One line from each token j (`centres.from[j]`) to the chosen token (`centres.to[sel]`),
 * as thick and as opaque as its weight; a weight of exactly 0 draws nothing.
 */
function drawWeightLines(lines, centres, sel, weights) {
  lines.forEach((line, j) => {
    line.setAttribute("x1", centres.from[j]);
    line.setAttribute("x2", centres.to[sel]);
    line.setAttribute("stroke-width", weights[j] > 0 ? 0.5 + 9 * weights[j] : 0);
    line.setAttribute("stroke-opacity", 0.15 + 0.85 * weights[j]);
  });
}

/**
 * A token chip shaded by its attention weight: the token, the weight as a number, and a bar.
 * Classes "aw-chip …" (shared look, _common.css) and "<prefix>-chip …" (the widget's own).
 * Returns {node, token, weight, fill}; the widget sets weight's text, fill's transform (scaleX) and --w.
 */
function weightChip(tok, prefix, attrs = {}) {
  const chip = { token: h("span", { class: `aw-chip-token ${prefix}-token` }, tok),
    weight: h("span", { class: `aw-chip-weight ${prefix}-weight` }),
    fill: h("span", { class: `aw-chip-fill ${prefix}-fill` }) };
  chip.node = h("div", { class: `aw-chip ${prefix}-chip`, role: "listitem", ...attrs }, chip.token, chip.weight,
    h("span", { class: `aw-chip-track ${prefix}-track`, "aria-hidden": "true" }, chip.fill));
  return chip;
}

/**
 * Shade each chip by its weight: the bar, the number and the ARIA label. `masked[j]` (optional)
 * marks a key the mask removed; such a chip gets the class `maskedClass`.
 */
function paintChips(chips, tokens, weights, { masked = null, maskedClass = "", t = null } = {}) {
  chips.forEach((c, j) => {
    const w = weights[j], off = Boolean(masked && masked[j]);
    setStyle(c.node, "--w", w);
    if (maskedClass) c.node.classList.toggle(maskedClass, off);
    const args = { token: tokens[j], weight: fmt(w) };
    setAttr(c.node, "aria-label", t ? t(off ? "common.chipMasked" : "common.chip", args)
      : `${args.token}: weight ${args.weight}${off ? " (masked)" : ""}`);
    setText(c.weight, fmt(w));
    setAttr(c.weight, "data-value", w);
    setStyle(c.fill, "transform", `scaleX(${w})`);
  });
}

/**
 * A function choose(i) that sets the integer trait `name` to i, clamped to [0, count() - 1],
 * and returns the index it chose (so a caller can move the focus there).
 */
function chooser(model, name, count) {
  return (i) => {
    const j = Math.max(0, Math.min(count() - 1, i));
    if (j !== model.get(name)) {
      model.set(name, j);
      model.save_changes();
    }
    return j;
  };
}

/** Mark the chosen button of a row: aria-checked, and the only one Tab reaches (roving tabindex). */
function markChosen(buttons, sel) {
  buttons.forEach((b, i) => {
    // two buttons change, the others are left alone (the attribute, not the tabIndex property:
    // reading that would make the browser restyle the page for every button)
    setAttr(b, "aria-checked", i === sel);
    setAttr(b, "tabindex", i === sel ? 0 : -1);
  });
}

/**
 * The band of lines between a row of weighted chips and the row of tokens to choose from.
 * Token positions are measured only when the layout may have changed (`rebuild`, a resize):
 * choosing another token moves nothing (the widgets' CSS keeps each word's size whether it
 * is chosen or not), so neither a new choice nor new weights force a layout.
 * Returns {rebuild(chips, words), draw(sel, weights), stop()}.
 */
function weightLinks(stage, links, band) {
  let chipNodes = [], words = [], lines = [], geometry = null, lastSel = null, last = [];
  const draw = (sel, weights) => {
    lastSel = sel;
    last = weights;
    if (!words[sel] || !stage.isConnected || weights.length !== lines.length) return;
    geometry ??= tokenCentres(links, chipNodes, words);
    drawWeightLines(lines, geometry, sel, weights);
  };
  const rebuild = (chips, buttons) => {
    chipNodes = chips.map((c) => c.node);
    words = buttons;
    lines = chips.map(() => s("line", { y1: 2, y2: band - 2 }));
    links.replaceChildren(...lines);
    geometry = null;
  };
  const stop = onResize(stage, () => { geometry = null; if (lastSel !== null) draw(lastSel, last); });
  return { rebuild, draw, stop };
}

/**
 * Call handlers[name] whenever the trait `name` changes: listen(model, {step: refresh}).
 * Several traits can share one handler: listen(model, ["a", "b"], refresh).
 * Returns the function that stops listening (a widget's render returns it).
 */
function listen(model, names, handler) {
  const handlers = Array.isArray(names) ? Object.fromEntries(names.map((n) => [n, handler])) : names;
  for (const [name, fn] of Object.entries(handlers)) model.on(`change:${name}`, fn);
  return () => { for (const [name, fn] of Object.entries(handlers)) model.off(`change:${name}`, fn); };
}

/** Call fn when `node` changes size (where ResizeObserver exists); returns the function that stops. */
function onResize(node, fn) {
  if (typeof ResizeObserver === "undefined") return () => {};
  const observer = new ResizeObserver(fn);
  observer.observe(node);
  return () => observer.disconnect();
}

/**
 * Two labelled rows of tokens with a band of weight lines between them: the row of
 * weighted chips (`top`) and the row to choose from (`bottom`). `role`/`label` are the
 * ARIA role and name of each row; each row's class is `<prefix>-<kind>`, kind defaulting
 * to its caption (give it when the caption is translated). Returns {node, top, bottom, links}.
 */
function tokenStage(prefix, band, [topCaption, topLabel, topKind = topCaption],
  [bottomCaption, bottomLabel, bottomKind = bottomCaption]) {
  const row = (kind, role, label) =>
    h("div", { class: `aw-stage-row ${prefix}-row ${prefix}-${kind}`, role, "aria-label": label });
  const caption = (text) => h("div", { class: `aw-stage-caption ${prefix}-caption` }, text);
  const top = row(topKind, "list", topLabel), bottom = row(bottomKind, "radiogroup", bottomLabel);
  const links = s("svg", { class: `aw-links ${prefix}-links`, height: band, "aria-hidden": "true" });
  const node = h("div", { class: `aw-stage ${prefix}-stage` },
    caption(topCaption), top, h("div", {}), links, caption(bottomCaption), bottom);
  return { node, top, bottom, links };
}

/**
 * A widget module's default export: `export default bookWidget(render)`. The root `el`
 * gets the shared class "attnlib-widget", which _common.css gives the theme variables
 * and the shared look. The static page's wrapper already has it; anywidget's live `el`
 * (JupyterLab, Binder, Colab) does not, and without it the live widget is unstyled.
 * `el` gets the lang of the widget's words, and a new `language` draws the widget afresh.
 */
function bookWidget(render) {
  return {
    render({ model, el }) {
      el.classList.add("attnlib-widget");
      let stop = null;
      const draw = () => {
        if (typeof stop === "function") stop();
        el.replaceChildren();
        el.setAttribute("lang", LANG_TAGS[model.get("language")] || "en");
        stop = render({ model, el });
      };
      draw();
      model.on("change:language", draw);
      return () => {
        model.off("change:language", draw);
        if (typeof stop === "function") stop();
      };
    },
  };
}
