// FocusExplorer: choose a target word; see which source tokens it looks at, and how
// sharply. weights = softmax(scores[selected] / τ), the same as attnlib.softmax.
// Helpers h, fmt, softmax, argmax, slider, mixText, arrowKeysChoose, chooser, markChosen,
// paintChips, weightChip, weightLinks, tokenStage, listen come from _common.js.

const LOG_TAU = { min: -1.5, max: 1.5, step: 0.01 }; // the slider moves log10 τ: τ from 0.03 to 32
const MIX_TERMS = 4; // terms shown in the context readout before "…"
const BAND = 56; // height of the band of links between the two sentences, px


function render({ model, el }) {
  const t = translator(model);
  // ---- static layout -------------------------------------------------------
  const { node: stage, top: source, bottom: target, links } = tokenStage("aw-fe", BAND,
    [t("focus.source"), t("focus.sourceRow"), "source"],
    [t("focus.target"), t("focus.targetRow"), "target"]);
  const temp = slider(t("common.temperature"), { ...LOG_TAU, value: Math.log10(model.get("temperature")),
    format: (v) => fmt(10 ** v, 2), onInput: (v) => setTemperature(10 ** v) });
  temp.node.classList.add("aw-fe-temp");
  const now = h("strong", { class: "aw-fe-now" }), mix = h("span", { class: "aw-fe-mix" });
  const top = h("span", { class: "aw-fe-top" }), facts = h("span", {});
  const readout = h("div", { class: "aw-fe-readout", "aria-live": "polite" },
    h("div", {}, t("focus.contextFor"), now, t("focus.contextIs"), mix),
    h("div", { class: "aw-muted" }, t("focus.largestOn"), top, facts));
  const help = h("p", { class: "aw-help" }, t("focus.help"));
  el.append(h("div", { class: "aw-fe", role: "group", "aria-label": t("focus.group") },
    stage, h("div", { class: "aw-fe-controls" }, temp.node,
      h("span", { class: "aw-muted aw-fe-ends" }, t("focus.ends"))),
    readout, help));

  function setTemperature(tau) {
    model.set("temperature", tau);
    model.save_changes();
  }
  const select = chooser(model, "selected", () => model.get("target_tokens").length);
  const band = weightLinks(stage, links, BAND);

  // ---- token elements, rebuilt when the sentences change ---------------------
  let chips = [], words = [];
  function build() {
    chips = model.get("source_tokens").map((tok) => weightChip(tok, "aw-fe"));
    words = model.get("target_tokens").map((tok, i) => h("button", { type: "button", role: "radio",
      class: "aw-fe-word", "data-index": i, "data-text": tok, onclick: () => select(i), onfocus: () => select(i) }, tok));
    source.replaceChildren(...chips.map((c) => c.node));
    target.replaceChildren(...words);
    band.rebuild(chips, words);
  }

  arrowKeysChoose(target, { current: () => model.get("selected"),
    count: () => model.get("target_tokens").length, choose: (i) => words[select(i)].focus() });

  // ---- the recipe, then the drawing ----------------------------------------
  function refresh() {
    const src = model.get("source_tokens"), tgt = model.get("target_tokens");
    if (chips.length !== src.length || words.length !== tgt.length ||
        chips.some((c, j) => c.token.textContent !== src[j]) ||
        words.some((w, i) => w.textContent !== tgt[i])) build();
    const sel = model.get("selected"), tau = model.get("temperature"), row = model.get("scores")[sel];
    if (!row || row.length !== src.length) return; // scores not updated yet
    const weights = softmax(row, null, tau);
    paintChips(chips, src, weights, { t });
    markChosen(words, sel);
    if (Math.abs(Math.log10(tau) - +temp.input.value) > LOG_TAU.step / 2) temp.input.value = Math.log10(tau);
    temp.out.textContent = fmt(tau, 2);
    temp.out.dataset.value = tau;
    temp.input.setAttribute("aria-valuetext", `τ = ${fmt(tau, 2)}`);
    const best = argmax(weights);
    now.textContent = tgt[sel];
    mix.textContent = mixText(src, weights, MIX_TERMS);
    top.textContent = src[best];
    facts.textContent = t("focus.facts", { weight: fmt(weights[best]), tau: fmt(tau, 2) });
    band.draw(sel, weights);
    model.set("weights", weights);
    model.save_changes();
  }

  const unlisten = listen(model, ["source_tokens", "target_tokens", "scores", "selected", "temperature"], refresh);
  refresh();
  return () => { unlisten(); band.stop(); };
}

export default bookWidget(render);
