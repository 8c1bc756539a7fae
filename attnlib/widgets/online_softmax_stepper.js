// OnlineSoftmaxStepper: read one query's keys block by block, as FlashAttention does, and
// watch the running maximum m, the running sum ℓ and the output o / ℓ converge to the full
// softmax's. The same loop as attnlib.online_softmax.online_steps:
//   m' = max(m, max s_block);  ℓ = ℓ·e^(m − m') + Σ e^(s − m');  o = o·e^(m − m') + Σ e^(s − m') v.
// Helpers h, s, fmt, softmax, slider, weightChip, listen and the setters (setText, setAttr,
// setStyle, keepChildren) come from _common.js.

const BAR_W = 14; // width of one output dimension's bar, px
const BAR_H = 90; // height of the output chart, px

/** Every state of the online pass: one per block, as attnlib.online_softmax.online_steps. */
function onlineSteps(scores, values, block) {
  let m = -Infinity, total = 0, acc = values[0].map(() => 0);
  const states = [];
  for (let start = 0; start < scores.length; start += block) {
    const z = scores.slice(start, start + block);
    const newM = Math.max(m, ...z);
    const scale = Math.exp(m - newM); // e^(m − m'); 0 for the first block (m = −∞)
    const p = z.map((x) => Math.exp(x - newM));
    total = total * scale + p.reduce((a, b) => a + b, 0);
    acc = acc.map((a, d) => a * scale + p.reduce((sum, pj, j) => sum + pj * values[start + j][d], 0));
    m = newM;
    states.push({ seen: Math.min(start + block, scores.length), maximum: m, total, rescale: scale,
      blockMax: Math.max(...z), output: acc.map((a) => a / total) });
  }
  return states;
}

/** What weight each key has so far: e^(s − m) / ℓ if read, 0 if not. */
function weightsSoFar(scores, state) {
  return scores.map((x, j) => (state && j < state.seen ? Math.exp(x - state.maximum) / state.total : 0));
}

/** A number with its sign, in scientific notation when tiny: for gaps that shrink to 1e−16. */
function gapText(x) {
  return x === 0 ? "0" : x < 1e-3 ? x.toExponential(1).replace("-", "\u2212") : fmt(x);
}

function render({ model, el }) {
  const t = translator(model);
  // ---- static layout -------------------------------------------------------
  const keysRow = h("div", { class: "aw-os-keys", role: "list", "aria-label": t("online.keys") });
  const blockSlider = slider(t("online.blockSize"), { min: 1, max: 1, step: 1, value: 1, format: (v) => String(v),
    onInput: (v) => { model.set("step", 0); model.set("block", v); model.save_changes(); } });
  blockSlider.node.classList.add("aw-os-block-size");
  const stepSlider = slider(t("online.blocksRead"), { min: 0, max: 1, step: 1, value: 0, format: (v) => String(v),
    onInput: (v) => { model.set("step", v); model.save_changes(); } });
  stepSlider.node.classList.add("aw-os-step");
  const next = h("button", { type: "button", class: "aw-os-next" }, t("online.next"));
  const reset = h("button", { type: "button", class: "aw-os-reset" }, t("online.reset"));
  next.addEventListener("click", () => setStep(model.get("step") + 1));
  reset.addEventListener("click", () => setStep(0));
  const mOut = h("strong", { class: "aw-os-m" }), lOut = h("strong", { class: "aw-os-l" });
  const rOut = h("strong", { class: "aw-os-rescale" }), progress = h("span", { class: "aw-os-progress" });
  const gapOut = h("strong", { class: "aw-os-gap" }), verdict = h("span", { class: "aw-os-verdict" });
  const state = h("div", { class: "aw-os-state", "aria-live": "polite" },
    h("div", {}, progress),
    h("div", { class: "aw-os-numbers" },
      h("span", {}, t("online.max"), mOut), h("span", {}, t("online.sum"), lOut),
      h("span", {}, t("online.rescale"), rOut)));
  const chart = s("svg", { class: "aw-os-chart", height: BAR_H, role: "img" });
  const outputPanel = h("div", { class: "aw-os-output" },
    h("div", { class: "aw-os-caption" }, t("online.outputCaption")),
    chart, h("div", {}, t("online.gap"), gapOut, " ", verdict));
  const traceBody = h("tbody", {});
  const trace = h("div", { class: "aw-os-trace", tabindex: "0", role: "region", "aria-label": t("online.trace") },
    h("table", {}, h("thead", {}, h("tr", {}, ...[t("online.colBlock"), t("online.colKeys"), t("online.colBlockMax"), "m", t("online.colRescale"), "\u2113"]
      .map((name) => h("th", { scope: "col" }, name)))), traceBody));
  const help = h("p", { class: "aw-help" }, t("online.help"));
  el.append(h("div", { class: "aw-os", role: "group", "aria-label": t("online.group") },
    h("div", { class: "aw-os-controls" }, blockSlider.node, stepSlider.node, next, reset),
    keysRow, h("div", { class: "aw-os-body" }, state, outputPanel), trace, help));

  function setStep(step) {
    const blocks = Math.ceil(model.get("scores").length / model.get("block"));
    const j = Math.max(0, Math.min(blocks, step));
    if (j !== model.get("step")) {
      model.set("step", j);
      model.save_changes();
    }
  }

  // ---- key cells, rebuilt when the tokens or the block size change ----------------------
  let chips = [], marks = [], scoreTexts = [], blockNodes = [], built = "";
  function build() {
    const tokens = model.get("tokens"), scores = model.get("scores"), block = model.get("block");
    chips = tokens.map((tok) => weightChip(tok, "aw-os"));
    marks = chips.map((c) => { const mark = h("span", { class: "aw-os-final" }); c.fill.after(mark); return mark; });
    scoreTexts = chips.map((c, j) => {
      const text = h("span", { class: "aw-os-score" }, fmt(scores[j], 2));
      c.token.after(text);
      return text;
    });
    blockNodes = [];
    for (let start = 0; start < tokens.length; start += block) {
      blockNodes.push(h("div", { class: "aw-os-group", role: "presentation" },
        ...chips.slice(start, start + block).map((c) => c.node)));
    }
    keysRow.replaceChildren(...blockNodes);
    const dims = model.get("values")[0].length;
    chart.replaceChildren(); // drawChart makes the bars for this many dimensions
    chart.setAttribute("width", dims * BAR_W + 2);
    chart.setAttribute("viewBox", `0 0 ${dims * BAR_W + 2} ${BAR_H}`);
    built = JSON.stringify([tokens, scores, block, dims]);
  }

  // ---- the online pass, then the drawing -----------------------------------------------
  function refresh() {
    const tokens = model.get("tokens"), scores = model.get("scores"), values = model.get("values");
    const block = model.get("block");
    if (!values.length || values.length !== scores.length || scores.length !== tokens.length) return;
    if (built !== JSON.stringify([tokens, scores, block, values[0].length])) build();
    const states = onlineSteps(scores, values, block), blocks = states.length;
    const step = Math.min(model.get("step"), blocks); // a new block size may not have arrived yet
    const now = step > 0 ? states[step - 1] : null;
    const full = states[blocks - 1], finalWeights = softmax(scores);
    const weights = weightsSoFar(scores, now);
    const output = now ? now.output : values[0].map(() => 0);

    chips.forEach((c, j) => {
      const read = now !== null && j < now.seen, w = weights[j];
      c.node.classList.toggle("aw-os-unread", !read);
      setStyle(c.node, "--w", w);
      setText(c.weight, read ? fmt(w) : "?");
      setAttr(c.weight, "data-value", w);
      setStyle(c.fill, "transform", `scaleX(${w})`);
      setStyle(marks[j], "left", `${100 * finalWeights[j]}%`);
      setAttr(c.node, "aria-label", t(read ? "online.chipRead" : "online.chipUnread",
        { token: tokens[j], score: fmt(scores[j], 2), weight: fmt(w), final: fmt(finalWeights[j]) }));
    });
    blockNodes.forEach((b, i) => {
      b.classList.toggle("aw-os-current", i === step - 1);
      b.classList.toggle("aw-os-done", i < step);
    });

    setText(progress, step === 0 ? t("online.none", { blocks, n: block })
      : t("online.after", { step, blocks, seen: now.seen, T: tokens.length }));
    setText(mOut, now ? fmt(now.maximum) : "\u2212\u221e");
    setText(lOut, now ? fmt(now.total) : "0");
    setText(rOut, now ? (step === 1 ? t("online.first") : fmt(now.rescale)) : "\u2013");
    for (const [node, v] of [[mOut, now ? now.maximum : null], [lOut, now ? now.total : 0], [rOut, now ? now.rescale : null]]) {
      setAttr(node, "data-value", v === null ? "" : v);
    }
    const gap = Math.max(...output.map((o, d) => Math.abs(o - full.output[d])));
    setText(gapOut, gapText(gap));
    setAttr(gapOut, "data-value", gap);
    setText(verdict, step === blocks ? t("online.exact") : "");
    drawChart(output, full.output);
    // one row per block read: rows already there stay (a block's numbers never change)
    const rows = keepChildren(traceBody, step, () => h("tr", {}, ...Array.from({ length: 6 }, () => h("td", {}))));
    rows.forEach((tr, i) => {
      const st = states[i];
      [i + 1, `${i * block + 1}\u2013${st.seen}`, fmt(st.blockMax, 2), fmt(st.maximum, 2),
        i === 0 ? "\u2013" : fmt(st.rescale, 3), fmt(st.total, 3)].forEach((v, k) => setText(tr.cells[k], v));
    });
    syncSliders(blocks, block, step, tokens.length);
    next.disabled = step >= blocks;
    model.set("weights", weights);
    model.set("output", output);
    model.save_changes();
  }

  function drawChart(output, target) {
    const top = Math.max(1e-9, ...output.map(Math.abs), ...target.map(Math.abs));
    const mid = BAR_H / 2, y = (v) => mid - (v / top) * (mid - 3);
    const n = output.length;
    // the axis, then n bars of the output so far and n of the full softmax's: moved, not rebuilt
    const [axis, ...bars] = keepChildren(chart, 1 + 2 * n, (i) =>
      s(i === 0 ? "line" : "rect", { class: i === 0 ? "aw-os-axis" : i <= n ? "aw-os-bar" : "aw-os-target" }));
    for (const [k, v] of [["x1", 0], ["x2", n * BAR_W + 2], ["y1", mid], ["y2", mid]]) setAttr(axis, k, v);
    [...output, ...target].forEach((v, i) => {
      const bar = bars[i], d = i % n;
      setAttr(bar, "x", 1 + d * BAR_W + 2);
      setAttr(bar, "width", BAR_W - 4);
      setAttr(bar, "y", Math.min(y(v), mid));
      setAttr(bar, "height", Math.max(0.5, Math.abs(y(v) - mid)));
    });
    setAttr(chart, "aria-label", t("online.chart", { n }));
  }

  function syncSliders(blocks, block, step, T) {
    setAttr(blockSlider.input, "max", T);
    if (+blockSlider.input.value !== block) blockSlider.input.value = block;
    setText(blockSlider.out, String(block));
    setAttr(stepSlider.input, "max", blocks);
    if (+stepSlider.input.value !== step) stepSlider.input.value = step;
    setText(stepSlider.out, `${step} / ${blocks}`);
    setAttr(stepSlider.out, "data-value", step);
    setAttr(stepSlider.input, "aria-valuetext", t("online.stepText", { step, blocks }));
    setAttr(blockSlider.input, "aria-valuetext", t("online.blockText", { n: block }));
  }

  const unlisten = listen(model, ["tokens", "scores", "values", "block", "step"], refresh);
  refresh();
  return unlisten;
}

export default bookWidget(render);
