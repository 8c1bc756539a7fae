// SelfAttentionExplorer: hover over or focus a token (the query) to see how much it attends
// to every token of the same sentence (the keys), per layer and head. The causal toggle
// re-normalises the same stored scores with a mask, as attnlib.functional.softmax does (what
// a causal layer computes in a first layer; an approximation in later ones):
//   weights[i] = softmax(scores[layer][head][i], mask: j <= i if causal).
// Helpers h, s, fmt, softmax, argmax, arrowKeysChoose, chooser, markChosen, paintChips,
// weightChip, weightLinks, tokenStage, listen come from _common.js.

const BAND = 64; // height of the band of links between the key row and the query row, px
const CELL = 20; // side of one cell of the weight matrix, px
const LABEL = 26; // room for the matrix's row and column labels, px

/** Weights of query i in the current layer and head (masked keys get exactly 0). */
function queryWeights(model, i) {
  const row = model.get("scores")[model.get("layer")][model.get("head")][i];
  const mask = model.get("causal") ? row.map((_, j) => j <= i) : null;
  return softmax(row, mask);
}

/** A <select> of n options `option(1)` ... `option(n)` ("layer 1"...), named `name`, bound to an integer trait. */
function indexSelect(model, trait, name, option, n) {
  const select = h("select", { "aria-label": name, class: `aw-sa-${trait}` });
  for (let i = 0; i < n; i++) select.append(h("option", { value: i }, option(i + 1)));
  select.value = model.get(trait);
  select.addEventListener("change", () => { model.set(trait, +select.value); model.save_changes(); });
  return select;
}

function render({ model, el }) {
  const t = translator(model);
  // ---- static layout -------------------------------------------------------
  const { node: stage, top: keys, bottom: queries, links } = tokenStage("aw-sa", BAND,
    [t("selfattn.keys"), t("selfattn.keysRow"), "keys"],
    [t("selfattn.query"), t("selfattn.queryRow"), "query"]);
  const matrix = s("svg", { class: "aw-sa-matrix", role: "img" });
  const selects = h("span", { class: "aw-sa-selects" });
  const causal = h("input", { type: "checkbox", class: "aw-sa-causal" });
  causal.addEventListener("change", () => { model.set("causal", causal.checked); model.save_changes(); });
  const now = h("strong", { class: "aw-sa-now" }), top = h("span", { class: "aw-sa-top" });
  const facts = h("span", { class: "aw-muted aw-sa-facts" });
  const readout = h("div", { class: "aw-sa-readout", "aria-live": "polite" },
    h("div", {}, t("selfattn.queryIs"), now, t("selfattn.largestOn"), top), facts);
  const help = h("p", { class: "aw-help" }, t("selfattn.help"));
  el.append(h("div", { class: "aw-sa", role: "group", "aria-label": t("selfattn.group") },
    h("div", { class: "aw-sa-controls" }, selects,
      h("label", { class: "aw-control" }, causal, t("selfattn.causal"))),
    h("div", { class: "aw-sa-body" }, stage,
      h("figure", { class: "aw-sa-figure" }, matrix,
        h("figcaption", { class: "aw-muted" }, t("selfattn.matrixCaption")))),
    readout, help));

  const select = chooser(model, "selected", () => model.get("tokens").length);
  const band = weightLinks(stage, links, BAND);

  // ---- elements that depend on the sentence and the model's size ------------------------
  let chips = [], words = [], cells = [], rowBox = null, built = "";
  function build() {
    const tokens = model.get("tokens"), scores = model.get("scores");
    selects.replaceChildren(h("label", { class: "aw-control" }, indexSelect(model, "layer", t("selfattn.layer"),
      (i) => t("selfattn.layerOption", { i }), scores.length)),
    h("label", { class: "aw-control" }, indexSelect(model, "head", t("selfattn.head"),
      (i) => t("selfattn.headOption", { i }), scores[0].length)));
    chips = tokens.map((tok) => weightChip(tok, "aw-sa"));
    words = tokens.map((tok, i) => h("button", { type: "button", role: "radio", class: "aw-sa-word",
      "data-index": i, "data-text": tok, onclick: () => select(i), onfocus: () => select(i), onmouseenter: () => select(i) }, tok));
    keys.replaceChildren(...chips.map((c) => c.node));
    queries.replaceChildren(...words);
    band.rebuild(chips, words);
    buildMatrix(tokens);
    built = JSON.stringify([tokens, scores.length, scores[0].length]);
  }

  function buildMatrix(tokens) {
    const n = tokens.length, side = LABEL + n * CELL;
    matrix.setAttribute("viewBox", `0 0 ${side} ${side}`);
    matrix.setAttribute("width", side);
    const labels = tokens.flatMap((tok, i) => [
      s("text", { x: LABEL + (i + 0.5) * CELL, y: LABEL - 9, class: "aw-sa-col" }, tok),
      s("text", { x: LABEL - 6, y: LABEL + (i + 0.5) * CELL, class: "aw-sa-rowlabel" }, tok)]);
    cells = tokens.map((_, i) => tokens.map((__, j) => s("rect", { x: LABEL + j * CELL, y: LABEL + i * CELL,
      width: CELL - 1, height: CELL - 1, class: "aw-sa-cell", onclick: () => select(i) })));
    rowBox = s("rect", { x: LABEL - 1.5, width: n * CELL + 2, height: CELL + 2, class: "aw-sa-rowbox" });
    matrix.replaceChildren(...labels, ...cells.flat(), rowBox);
  }

  arrowKeysChoose(queries, { current: () => model.get("selected"),
    count: () => model.get("tokens").length, choose: (i) => words[select(i)].focus() });

  let painted = []; // what the matrix's cells show: the cells, scores, layer, head and mask
  function drawMatrix(sel) {
    const tokens = model.get("tokens");
    const shown = [cells, model.get("scores"), model.get("layer"), model.get("head"), model.get("causal")];
    if (shown.some((x, i) => x !== painted[i])) paintMatrix(); // a new query only moves the frame
    painted = shown;
    rowBox.setAttribute("y", LABEL + sel * CELL - 1.5);
    matrix.setAttribute("aria-label", t("selfattn.matrix",
      { layer: model.get("layer") + 1, head: model.get("head") + 1, token: tokens[sel] }));
  }

  function paintMatrix() {
    cells.forEach((row, i) => {
      const w = queryWeights(model, i);
      row.forEach((cell, j) => {
        const masked = model.get("causal") && j > i;
        cell.classList.toggle("aw-sa-masked", masked);
        cell.style.fillOpacity = masked ? "" : 0.06 + 0.94 * w[j];
      });
    });
  }

  // ---- the recipe, then the drawing ----------------------------------------
  function refresh() {
    const tokens = model.get("tokens"), scores = model.get("scores");
    if (!scores.length || scores[0][0]?.length !== tokens.length) return; // scores not updated yet
    if (built !== JSON.stringify([tokens, scores.length, scores[0].length])) build();
    const sel = model.get("selected"), isCausal = model.get("causal");
    const weights = queryWeights(model, sel);
    paintChips(chips, tokens, weights, { masked: isCausal ? tokens.map((_, j) => j > sel) : null,
      maskedClass: "aw-sa-masked", t });
    markChosen(words, sel);
    for (const name of ["layer", "head"]) {
      const box = selects.querySelector(`.aw-sa-${name}`);
      if (+box.value !== model.get(name)) box.value = model.get(name);
    }
    causal.checked = isCausal;
    const best = argmax(weights);
    setText(now, tokens[sel]);
    setText(top, `${tokens[best]} (${fmt(weights[best])})`);
    const hidden = isCausal ? tokens.length - 1 - sel : 0;
    setText(facts, t("selfattn.where", { layer: model.get("layer") + 1, head: model.get("head") + 1 }) +
      (hidden ? t("selfattn.masked", { n: hidden }) : "") + t("selfattn.sum"));
    band.draw(sel, weights);
    drawMatrix(sel);
    model.set("weights", weights);
    model.save_changes();
  }

  const unlisten = listen(model, ["tokens", "scores", "layer", "head", "selected", "causal"], refresh);
  refresh();
  return () => { unlisten(); band.stop(); };
}

export default bookWidget(render);
