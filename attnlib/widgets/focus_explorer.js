// FocusExplorer: choose a target word; see which source tokens it looks at, and how
// sharply. weights = softmax(scores[selected] / τ), the same as attnlib.softmax.
// Helpers h, s, fmt, softmax, slider, mixText, arrowKeysChoose,
// tokenCentres, drawWeightLines, weightChip, tokenStage, listen, onResize come from _common.js.

const LOG_TAU = { min: -1.5, max: 1.5, step: 0.01 }; // the slider moves log10 τ: τ from 0.03 to 32
const MIX_TERMS = 4; // terms shown in the context readout before "…"
const BAND = 56; // height of the band of links between the two sentences, px


function render({ model, el }) {
  // ---- static layout -------------------------------------------------------
  const { node: stage, top: source, bottom: target, links } = tokenStage("aw-fe", BAND,
    ["source", "Source tokens, shaded by attention weight"],
    ["target", "Target words: choose one to see where it looks"]);
  const temp = slider("temperature τ", { ...LOG_TAU, value: Math.log10(model.get("temperature")),
    format: (v) => fmt(10 ** v, 2), onInput: (v) => setTemperature(10 ** v) });
  temp.node.classList.add("aw-fe-temp");
  const now = h("strong", { class: "aw-fe-now" }), mix = h("span", { class: "aw-fe-mix" });
  const top = h("span", { class: "aw-fe-top" }), facts = h("span", {});
  const readout = h("div", { class: "aw-fe-readout", "aria-live": "polite" },
    h("div", {}, "context for ", now, " = ", mix),
    h("div", { class: "aw-muted" }, "largest weight on ", top, facts));
  const help = h("p", { class: "aw-help" }, "Click a target word, or Tab to the words and use the " +
    "arrow keys. Slide τ left for one-word focus (hard), right for an even spread (one overall impression).");
  el.append(h("div", { class: "aw-fe", role: "group", "aria-label": "Focus explorer" },
    stage, h("div", { class: "aw-fe-controls" }, temp.node,
      h("span", { class: "aw-muted aw-fe-ends" }, "← sharp: one word · flat: all words alike →")),
    readout, help));

  function setTemperature(tau) {
    model.set("temperature", tau);
    model.save_changes();
  }

  function select(i) {
    const n = model.get("target_tokens").length;
    const j = Math.max(0, Math.min(n - 1, i));
    if (j !== model.get("selected")) {
      model.set("selected", j);
      model.save_changes();
    }
    return j;
  }

  // ---- token elements, rebuilt when the sentences change ---------------------
  let chips = [], words = [], lineNodes = [], geometry = null;
  function build() {
    chips = model.get("source_tokens").map((tok) => weightChip(tok, "aw-fe"));
    words = model.get("target_tokens").map((tok, i) => h("button", { type: "button", role: "radio",
      class: "aw-fe-word", "data-index": i, onclick: () => select(i), onfocus: () => select(i) }, tok));
    lineNodes = chips.map(() => s("line", { y1: 2, y2: BAND - 2 }));
    source.replaceChildren(...chips.map((c) => c.node));
    target.replaceChildren(...words);
    links.replaceChildren(...lineNodes);
    geometry = null;
  }

  arrowKeysChoose(target, { current: () => model.get("selected"),
    count: () => model.get("target_tokens").length, choose: (i) => words[select(i)].focus() });

  // ---- the links between the selected word and every source token ------------
  // Token positions are measured only when the layout may have changed (new tokens,
  // a new selection, a resize), so moving the slider never forces a layout.
  function drawLinks(weights) {
    const sel = model.get("selected");
    if (!words[sel] || !stage.isConnected || weights.length !== lineNodes.length) return;
    geometry ??= tokenCentres(links, chips.map((c) => c.node), words);
    drawWeightLines(lineNodes, geometry, sel, weights);
  }

  // ---- the recipe, then the drawing ----------------------------------------
  let last = [], lastSelected = null;
  function refresh() {
    const src = model.get("source_tokens"), tgt = model.get("target_tokens");
    if (chips.length !== src.length || words.length !== tgt.length ||
        chips.some((c, j) => c.token.textContent !== src[j]) ||
        words.some((w, i) => w.textContent !== tgt[i])) build();
    const sel = model.get("selected"), tau = model.get("temperature"), row = model.get("scores")[sel];
    if (!row || row.length !== src.length) return; // scores not updated yet
    if (sel !== lastSelected) geometry = null; // the bold word changes the layout
    lastSelected = sel;
    const weights = softmax(row, tau);
    chips.forEach((c, j) => {
      const w = weights[j];
      c.node.style.setProperty("--w", w);
      c.node.setAttribute("aria-label", `${src[j]}: weight ${fmt(w)}`);
      c.weight.textContent = fmt(w);
      c.weight.dataset.value = w;
      c.fill.style.width = `${100 * w}%`;
    });
    words.forEach((w, i) => {
      w.setAttribute("aria-checked", String(i === sel));
      w.tabIndex = i === sel ? 0 : -1; // roving tabindex: Tab reaches the chosen word
    });
    if (Math.abs(Math.log10(tau) - +temp.input.value) > LOG_TAU.step / 2) temp.input.value = Math.log10(tau);
    temp.out.textContent = fmt(tau, 2);
    temp.out.dataset.value = tau;
    temp.input.setAttribute("aria-valuetext", `τ = ${fmt(tau, 2)}`);
    const best = weights.indexOf(Math.max(...weights));
    now.textContent = tgt[sel];
    mix.textContent = mixText(src, weights, MIX_TERMS);
    top.textContent = src[best];
    facts.textContent = ` (${fmt(weights[best])}) · weights sum to 1 · τ = ${fmt(tau, 2)}`;
    drawLinks(weights);
    last = weights;
    model.set("weights", weights);
    model.save_changes();
  }

  const unlisten = listen(model, ["source_tokens", "target_tokens", "scores", "selected", "temperature"], refresh);
  refresh();
  const unobserve = onResize(stage, () => { geometry = null; drawLinks(last); });
  return () => { unlisten(); unobserve(); };
}

export default { render };
