// AlignmentExplorer: step through a trained decoder. At step t the source tokens are
// shaded by the weights α_t, the row t of the alignment matrix is outlined, the
// context c_t moves in a 2-D (PCA) picture of the encoder states h_j, and the readout
// says how the focus (the largest weight) moved and how spread the row is.
// All numbers are precomputed in Python; helpers h, s, fmt, argmax, mixText, paintChips,
// weightChip, listen come from _common.js.

const PLANE = 300; // side of the context plane, SVG units
const PAD = 34; // margin inside the plane, so labels fit
const CELL = 26; // one cell of the matrix, SVG units
const PLAY_MS = 900; // time per step while playing
const MIX_TERMS = 3; // terms of c_t spelled out in the readout

/** Subscript digits, for s₀, α₁, c₁. */
const sub = (n) => String(n).replace(/[0-9]/g, (d) => "₀₁₂₃₄₅₆₇₈₉"[+d]);

/** Tokens a row's weight is spread over, as if evenly: 2^H, H its entropy in bits (0 log 0 = 0),
 * as attnlib.alignment.effective_tokens. */
const spreadOf = (w) => 2 ** -w.reduce((acc, x) => acc + (x > 0 ? x * Math.log2(x) : 0), 0);

/** How the focus (the argmax) moved since the previous step: Δ = f_t − f_{t−1}, in words. */
function moveText(tr, delta) {
  if (delta === 0) return tr("alignment.stayed");
  return tr(delta > 0 ? "alignment.forward" : "alignment.back", { n: Math.abs(delta) });
}


function render({ model, el }) {
  const tr = translator(model);
  const current = () => model.get("examples")[model.get("example")];
  let timer = null;

  // ---- static layout ---------------------------------------------------------
  const select = h("select", { class: "aw-ae-select", "aria-label": tr("alignment.example") });
  const input = h("input", { type: "text", class: "aw-ae-input", maxlength: 40, lang: "zh",
    placeholder: tr("alignment.placeholder"), "aria-label": tr("alignment.input") });
  const go = h("button", { type: "button", class: "aw-ae-go" }, tr("alignment.translate"));
  const note = h("span", { class: "aw-muted aw-ae-note", "aria-live": "polite" });
  const source = h("div", { class: "aw-ae-source", role: "list",
    "aria-label": tr("alignment.sourceRow") });
  const target = h("div", { class: "aw-ae-target", role: "group", "aria-label": tr("alignment.targetRow") });
  const reference = h("div", { class: "aw-muted aw-ae-reference" });
  const prev = h("button", { type: "button", class: "aw-ae-prev", "aria-label": tr("alignment.prevLabel") },
    tr("alignment.prev"));
  const play = h("button", { type: "button", class: "aw-ae-play", "aria-pressed": "false" }, tr("alignment.play"));
  const next = h("button", { type: "button", class: "aw-ae-next", "aria-label": tr("alignment.nextLabel") },
    tr("alignment.next"));
  const range = h("input", { type: "range", class: "aw-ae-range", min: 0, max: 0, step: 1, value: 0,
    "aria-label": tr("alignment.stepLabel") });
  const stepOut = h("output", { class: "aw-ae-stepout" });
  const matrix = s("svg", { class: "aw-ae-matrix", role: "img" });
  const plane = s("svg", { class: "aw-ae-plane", viewBox: `0 0 ${PLANE} ${PLANE}`, role: "img" });
  const planeCaption = h("div", { class: "aw-muted aw-ae-caption" });
  const readout = h("div", { class: "aw-ae-readout", "aria-live": "polite" });
  const help = h("p", { class: "aw-help" }, tr("alignment.help"));
  const root = h("div", { class: "aw-ae", role: "group", tabindex: 0,
    "aria-label": tr("alignment.group") },
  h("div", { class: "aw-ae-top" },
    h("label", { class: "aw-control" }, tr("alignment.sentence"), select),
    h("span", { class: "aw-ae-own" }, input, go), note),
  h("div", { class: "aw-ae-pair" },
    h("div", { class: "aw-ae-caption" }, tr("alignment.sourceCaption")), source,
    h("div", { class: "aw-ae-caption" }, tr("alignment.outputCaption")), target, reference),
  h("div", { class: "aw-ae-steps" }, prev, play, next,
    h("label", { class: "aw-control" }, tr("alignment.step"), range, stepOut)),
  readout,
  h("div", { class: "aw-ae-figs" },
    h("figure", { class: "aw-ae-fig" }, matrix,
      h("figcaption", { class: "aw-muted" }, tr("alignment.matrixCaption"))),
    h("figure", { class: "aw-ae-fig" }, plane, planeCaption)),
  help);
  el.append(root);

  // ---- controls ----------------------------------------------------------------
  const setStep = (t) => {
    const n = current().output.length;
    const k = Math.max(0, Math.min(n - 1, t));
    if (k !== model.get("step")) { model.set("step", k); model.save_changes(); }
  };
  const stop = () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
    play.textContent = tr("alignment.play");
    play.setAttribute("aria-pressed", "false");
  };
  const tick = () => {
    if (model.get("step") >= current().output.length - 1) stop();
    else setStep(model.get("step") + 1);
  };
  const togglePlay = () => {
    if (timer !== null) { stop(); return; }
    if (model.get("step") >= current().output.length - 1) setStep(0);
    timer = setInterval(tick, PLAY_MS);
    play.textContent = tr("alignment.pause");
    play.setAttribute("aria-pressed", "true");
  };
  prev.addEventListener("click", () => { stop(); setStep(model.get("step") - 1); });
  next.addEventListener("click", () => { stop(); setStep(model.get("step") + 1); });
  play.addEventListener("click", togglePlay);
  range.addEventListener("input", () => { stop(); setStep(+range.value); });
  select.addEventListener("change", () => {
    stop();
    model.set("step", 0);
    model.set("example", +select.value);
    model.save_changes();
  });
  const submit = () => {
    if (!model.get("live") || !input.value.trim()) return;
    if (input.value === model.get("sentence")) { note.textContent = model.get("status"); return; }
    stop();
    note.textContent = tr("alignment.translating");
    model.set("sentence", input.value);
    model.save_changes();
  };
  go.addEventListener("click", submit);
  input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") submit(); });
  root.addEventListener("keydown", (ev) => {
    const tag = ev.target.tagName;
    if (tag === "INPUT" || tag === "SELECT") return; // they handle their own keys
    const n = current().output.length, t = model.get("step");
    const moves = { ArrowRight: t + 1, ArrowDown: t + 1, ArrowLeft: t - 1, ArrowUp: t - 1, Home: 0, End: n - 1 };
    if (ev.key in moves) { ev.preventDefault(); ev.stopPropagation(); stop(); setStep(moves[ev.key]); }
    else if (ev.key === "p" || ev.key === "P") { ev.preventDefault(); ev.stopPropagation(); togglePlay(); }
  });

  // ---- per-example elements, rebuilt when the example changes ------------------
  let chips = [], words = [], cells = [], dots = [], outline = null, path = null, ctxMark = null, drawn = null;
  const toPx = ([x, y]) => [PAD + ((x + 1) / 2) * (PLANE - 2 * PAD), PAD + ((1 - y) / 2) * (PLANE - 2 * PAD)];

  function buildSelect() {
    select.replaceChildren(...model.get("examples").map((ex, i) => h("option", { value: i }, ex.label)));
    select.value = String(model.get("example"));
  }

  function buildExample() {
    const ex = current();
    drawn = ex;
    chips = ex.source.map((tok, j) => weightChip(tok, "aw-ae", { "data-index": j }));
    source.replaceChildren(...chips.map((c) => c.node));
    words = ex.output.map((tok, k) => h("button", { type: "button", class: "aw-ae-word",
      "data-step": k, "aria-label": tr("alignment.stepWord", { t: k + 1, token: tok }), onclick: () => { stop(); setStep(k); } }, tok));
    target.replaceChildren(...words);
    reference.textContent = ex.reference ? tr("alignment.reference", { text: ex.reference }) : "";
    range.max = ex.output.length - 1;
    buildMatrix(ex);
    buildPlane(ex);
  }

  function buildMatrix(ex) {
    const n = ex.output.length, m = ex.source.length;
    const left = 12 + 8 * Math.max(...ex.output.map((w) => w.length), 4), top = 26;
    matrix.setAttribute("viewBox", `0 0 ${left + m * CELL + 2} ${top + n * CELL + 2}`);
    matrix.style.maxWidth = `${left + m * CELL + 2}px`;
    matrix.setAttribute("aria-label", tr("alignment.matrix", { n, m }));
    const parts = [];
    ex.source.forEach((tok, j) => parts.push(s("text", { x: left + (j + 0.5) * CELL, y: top - 8,
      class: "aw-ae-col" }, tok)));
    cells = ex.weights.map((row, i) => {
      parts.push(s("text", { x: left - 6, y: top + (i + 0.5) * CELL, class: "aw-ae-row" }, ex.output[i]));
      return row.map((w, j) => {
        const r = s("rect", { x: left + j * CELL, y: top + i * CELL, width: CELL - 1, height: CELL - 1,
          class: "aw-ae-cell" });
        r.style.fillOpacity = 0.04 + 0.96 * w;
        parts.push(r);
        return r;
      });
    });
    outline = s("rect", { x: left - 1, width: m * CELL + 1, height: CELL + 1, class: "aw-ae-outline" });
    outline.dataset.top = top;
    parts.push(outline);
    matrix.replaceChildren(...parts);
  }

  function buildPlane(ex) {
    const grid = s("g", { class: "aw-ae-grid" },
      s("line", { x1: PAD, x2: PLANE - PAD, y1: PLANE / 2, y2: PLANE / 2 }),
      s("line", { y1: PAD, y2: PLANE - PAD, x1: PLANE / 2, x2: PLANE / 2 }));
    dots = ex.source_points.map((p, j) => {
      const [x, y] = toPx(p);
      const g = s("g", { class: "aw-ae-dot", transform: `translate(${x},${y})` },
        s("circle", { r: 5 }), s("text", { x: 8, y: -8 }, ex.source[j]));
      return g;
    });
    path = s("polyline", { class: "aw-ae-path" });
    ctxMark = s("g", { class: "aw-ae-ctx" }, s("circle", { r: 7 }), s("path", { d: "M-5,0H5M0,-5V5" }),
      s("text", { x: 9, y: 16 }, "c"));
    plane.replaceChildren(grid, ...dots, path, ctxMark);
    plane.setAttribute("aria-label", tr("alignment.plane"));
    planeCaption.textContent = tr("alignment.planeCaption", { pct: Math.round(100 * ex.explained) });
  }

  // ---- drawing the current step ----------------------------------------------
  function refresh() {
    const ex = current();
    if (ex !== drawn) buildExample();
    const t = Math.min(model.get("step"), ex.output.length - 1), w = ex.weights[t];
    paintChips(chips, ex.source, w, { t: tr });
    words.forEach((b, k) => {
      b.classList.toggle("aw-ae-done", k < t);
      b.classList.toggle("aw-ae-now", k === t);
      b.classList.toggle("aw-ae-todo", k > t);
      if (k === t) b.setAttribute("aria-current", "step"); else b.removeAttribute("aria-current");
    });
    outline.setAttribute("y", +outline.dataset.top + t * CELL - 1);
    dots.forEach((d, j) => {
      d.firstChild.setAttribute("r", 4 + 10 * Math.sqrt(w[j]));
      d.firstChild.style.fillOpacity = 0.2 + 0.8 * w[j];
    });
    const pts = ex.context_points.slice(0, t + 1).map(toPx);
    path.setAttribute("points", pts.map(([x, y]) => `${x},${y}`).join(" "));
    ctxMark.setAttribute("transform", `translate(${pts[t][0]},${pts[t][1]})`);
    ctxMark.dataset.x = ex.context_points[t][0];
    ctxMark.dataset.y = ex.context_points[t][1];
    range.value = t;
    stepOut.textContent = `${t + 1} / ${ex.output.length}`;
    const top = argmax(w);
    const delta = t === 0 ? null : top - argmax(ex.weights[t - 1]);
    const spread = spreadOf(w);
    readout.replaceChildren(
      h("div", {}, tr("alignment.stepText", { t: t + 1, s: `s${sub(t)}`, alpha: `α${sub(t + 1)}`, c: `c${sub(t + 1)}` }),
        h("span", { class: "aw-ae-mix" }, mixText(ex.source, w, MIX_TERMS)),
        tr("alignment.toWrite"), h("strong", { class: "aw-ae-out" }, ex.output[t]), tr("alignment.end")),
      h("div", { class: "aw-muted" }, tr("alignment.largest", { token: ex.source[top], weight: fmt(w[top]) }),
        h("span", { class: "aw-ae-move", "data-move": delta === null ? "" : delta },
          delta === null ? tr("alignment.starts") : moveText(tr, delta)),
        tr("alignment.spreadOver"),
        h("span", { class: "aw-ae-spread", "data-value": spread }, fmt(spread, 1)),
        tr("alignment.ofTokens", { n: ex.source.length })));
    prev.disabled = t === 0;
    next.disabled = t === ex.output.length - 1;
  }

  function onExamples() { drawn = null; buildSelect(); refresh(); }
  function onExample() { select.value = String(model.get("example")); refresh(); }
  function onLive() {
    const live = model.get("live");
    input.disabled = !live;
    go.disabled = !live;
    if (!live) note.textContent = tr("alignment.needsKernel");
  }
  function onStatus() { if (model.get("live")) note.textContent = model.get("status"); }

  const unlisten = listen(model, { examples: onExamples, example: onExample, step: refresh, live: onLive,
    status: onStatus });
  buildSelect();
  onLive();
  refresh();
  return () => { stop(); unlisten(); };
}

export default bookWidget(render);
