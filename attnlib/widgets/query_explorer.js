// QueryExplorer: drag a query among labelled 2-D keys; watch the recipe's three
// steps (scores -> softmax weights -> weighted sum of values) update live.
// The "values = keys" box unlocks the values: untick it and each value (a square) moves on
// its own, so the keys decide the weights and the values decide the context.
// Helpers h, s, fmt, attend, argmax, slider, listen come from _common.js.

const SIZE = 360; // the plane's side in SVG units
const SCORE_LABELS = { // message keys of the score functions' names
  dot: "query.scoreDot", scaled_dot: "query.scoreScaledDot", cosine: "query.scoreCosine",
  general: "query.scoreGeneral", additive: "query.scoreAdditive",
};

function render({ model, el }) {
  const t = translator(model);
  const E = () => model.get("extent");
  const toPx = ([x, y]) => [((x + E()) / (2 * E())) * SIZE, ((E() - y) / (2 * E())) * SIZE];
  const clamp = (v) => Math.max(-E(), Math.min(E(), v));

  // ---- static layout -------------------------------------------------------
  const plane = s("svg", { viewBox: `0 0 ${SIZE} ${SIZE}`, class: "aw-plane",
    role: "group", "aria-label": t("query.plane") });
  const grid = s("g", { class: "aw-grid" });
  const pairs = s("g", { class: "aw-pairs", "aria-hidden": "true" }); // key -> its value, when apart
  const lines = s("g", { class: "aw-lines" });
  const valuesG = s("g", { class: "aw-values" });
  const keysG = s("g", { class: "aw-keys" });
  const ctx = s("g", { class: "aw-context", "aria-hidden": "true" },
    s("circle", { r: 7 }), s("path", { d: "M-5,0H5M0,-5V5" }), s("text", { x: 9, y: -9 }, "c"));
  const query = s("g", { class: "aw-query", tabindex: 0, role: "button",
    "aria-roledescription": t("query.movable") },
  s("path", { d: "M0,-11L3,-3.5L11,-3.5L4.5,1.5L7,10L0,5L-7,10L-4.5,1.5L-11,-3.5L-3,-3.5Z" }),
  s("text", { x: 12, y: 16 }, "q"), s("circle", { r: 16, class: "aw-hit" }));
  plane.append(grid, pairs, lines, keysG, valuesG, ctx, query);

  const bars = h("div", { class: "aw-bars", role: "table", "aria-label": t("query.bars") });
  const select = h("select", { "aria-label": t("query.scoreFunction") });
  for (const name of model.get("score_options")) {
    select.append(h("option", { value: name }, SCORE_LABELS[name] ? t(SCORE_LABELS[name]) : name));
  }
  select.value = model.get("score");
  select.addEventListener("change", () => { model.set("score", select.value); model.save_changes(); });
  const temp = slider(t("common.temperature"), { min: 0.05, max: 5, step: 0.05, value: model.get("temperature"),
    onInput: (v) => { model.set("temperature", v); model.save_changes(); } });
  const follow = h("input", { type: "checkbox", class: "aw-follow" });
  follow.addEventListener("change", () => setFollow(follow.checked));
  const readout = h("div", { class: "aw-readout", "aria-live": "polite" });
  const help = h("p", { class: "aw-help" }, t("query.help"));
  el.append(h("div", { class: "aw-qe" },
    h("div", { class: "aw-left" }, plane, help),
    h("div", { class: "aw-right" },
      h("div", { class: "aw-controls" }, h("label", { class: "aw-control" }, t("query.score") + " ", select), temp.node,
        h("label", { class: "aw-control" }, follow, t("query.followKeys"))),
      bars, readout)));

  drawGrid();

  // ---- per-key elements, rebuilt when the number of keys or labels changes ---
  let keyNodes = [], valueNodes = [], pairNodes = [], lineNodes = [], barNodes = [];
  function buildKeys() {
    const labels = model.get("labels");
    keyNodes = labels.map((label, i) => {
      const g = s("g", { class: "aw-key", tabindex: 0, role: "button",
        "aria-roledescription": t("query.movable"), "data-index": i },
      s("circle", { r: 8 }), s("text", { x: 11, y: -10 }, label), s("circle", { r: 14, class: "aw-hit" }));
      makeMovable(g, () => model.get("key_points")[i], (p) => moveKey(i, p));
      return g;
    });
    valueNodes = labels.map((label, i) => {
      const g = s("g", { class: "aw-value", tabindex: 0, role: "button",
        "aria-roledescription": t("query.movable"), "data-index": i },
      s("rect", { width: 10, height: 10, x: -5, y: -5 }), s("text", { x: 8, y: 15 }, `v ${label}`),
      s("circle", { r: 12, class: "aw-hit" }));
      makeMovable(g, () => model.get("value_points")[i], (p) => moveValue(i, p));
      return g;
    });
    pairNodes = labels.map(() => s("line", {}));
    lineNodes = labels.map(() => s("line", {}));
    barNodes = labels.map((label) => {
      const row = { score: h("span", { class: "aw-score", role: "cell" }),
        fill: h("span", { class: "aw-fill" }), weight: h("span", { class: "aw-weight", role: "cell" }) };
      row.node = h("div", { class: "aw-bar", role: "row" },
        h("span", { class: "aw-label", role: "cell" }, label), row.score,
        h("span", { class: "aw-track", role: "cell", "aria-hidden": "true" }, row.fill), row.weight);
      return row;
    });
    keysG.replaceChildren(...keyNodes);
    valuesG.replaceChildren(...valueNodes);
    pairs.replaceChildren(...pairNodes);
    lines.replaceChildren(...lineNodes);
    bars.replaceChildren(h("div", { class: "aw-bar aw-head", role: "row" },
      h("span", { role: "columnheader" }, t("query.key")),
      h("span", { role: "columnheader" }, t("query.score")),
      h("span", { role: "columnheader" }, ""), h("span", { role: "columnheader" }, t("query.weight"))),
    ...barNodes.map((r) => r.node));
  }

  function moveKey(i, p) {
    const ks = model.get("key_points").map((k, j) => (j === i ? p : k));
    model.set("key_points", ks);
    if (model.get("values_follow_keys")) model.set("value_points", ks.map((k) => [...k]));
    model.save_changes();
  }

  function moveValue(i, p) {
    model.set("value_points", model.get("value_points").map((v, j) => (j === i ? p : v)));
    model.save_changes();
  }

  /** Tick: values snap back onto the keys and follow them. Untick: values move on their own. */
  function setFollow(on) {
    model.set("values_follow_keys", on);
    if (on) model.set("value_points", model.get("key_points").map((k) => [...k]));
    model.save_changes();
  }

  // ---- dragging and keyboard, shared by the query and the keys ---------------
  function makeMovable(node, get, set) {
    node.addEventListener("pointerdown", (ev) => {
      ev.preventDefault();
      node.focus();
      plane.setPointerCapture(ev.pointerId);
      const move = (e) => {
        const pt = new DOMPoint(e.clientX, e.clientY).matrixTransform(plane.getScreenCTM().inverse());
        set([clamp((pt.x / SIZE) * 2 * E() - E()), clamp(E() - (pt.y / SIZE) * 2 * E())]);
      };
      const up = () => { plane.removeEventListener("pointermove", move); plane.removeEventListener("pointerup", up); };
      plane.addEventListener("pointermove", move);
      plane.addEventListener("pointerup", up);
    });
    node.addEventListener("keydown", (ev) => {
      const step = ev.shiftKey ? 0.5 : 0.1;
      const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] }[ev.key];
      if (!d) return;
      ev.preventDefault();
      ev.stopPropagation(); // the widget's key: the page's own shortcuts need not look at it
      const [x, y] = get();
      set([clamp(+(x + d[0]).toFixed(6)), clamp(+(y + d[1]).toFixed(6))]);
    });
  }
  makeMovable(query, () => model.get("query"), (p) => { model.set("query", p); model.save_changes(); });

  function drawGrid() {
    const parts = [];
    for (let v = Math.ceil(-E()); v <= E(); v += 1) {
      const [px] = toPx([v, 0]), [, py] = toPx([0, v]);
      parts.push(s("line", { x1: px, x2: px, y1: 0, y2: SIZE, class: v === 0 ? "aw-axis" : "" }),
        s("line", { y1: py, y2: py, x1: 0, x2: SIZE, class: v === 0 ? "aw-axis" : "" }));
    }
    grid.replaceChildren(...parts);
  }

  // ---- the recipe, then the drawing ----------------------------------------
  function refresh() {
    if (keyNodes.length !== model.get("labels").length) buildKeys();
    const keys = model.get("key_points"), values = model.get("value_points"), q = model.get("query");
    const params = { general_W: model.get("general_W"), additive_Wq: model.get("additive_Wq"),
      additive_Wk: model.get("additive_Wk"), additive_v: model.get("additive_v") };
    const { scores, weights, context } = attend(q, keys, values, model.get("score"), model.get("temperature"), params);
    const [qx, qy] = toPx(q);
    query.setAttribute("transform", `translate(${qx},${qy})`);
    query.setAttribute("aria-label", t("query.queryAt", { x: fmt(q[0], 2), y: fmt(q[1], 2) }));
    query.dataset.x = q[0]; query.dataset.y = q[1];
    keys.forEach((k, i) => {
      const [kx, ky] = toPx(k), [vx, vy] = toPx(values[i]), w = weights[i];
      keyNodes[i].setAttribute("transform", `translate(${kx},${ky})`);
      keyNodes[i].firstChild.setAttribute("r", 6 + 10 * Math.sqrt(w));
      keyNodes[i].firstChild.style.fillOpacity = 0.15 + 0.85 * w;
      keyNodes[i].setAttribute("aria-label", t("query.keyAt",
        { label: model.get("labels")[i], x: fmt(k[0], 2), y: fmt(k[1], 2), weight: fmt(w) }));
      valueNodes[i].setAttribute("transform", `translate(${vx},${vy})`);
      valueNodes[i].setAttribute("aria-label", t("query.valueAt",
        { label: model.get("labels")[i], x: fmt(values[i][0], 2), y: fmt(values[i][1], 2) }));
      valueNodes[i].dataset.x = values[i][0]; valueNodes[i].dataset.y = values[i][1];
      Object.entries({ x1: kx, y1: ky, x2: vx, y2: vy }).forEach(([a, v]) => pairNodes[i].setAttribute(a, v));
      Object.entries({ x1: qx, y1: qy, x2: kx, y2: ky }).forEach(([a, v]) => lineNodes[i].setAttribute(a, v));
      lineNodes[i].style.strokeWidth = 0.5 + 7 * w;
      lineNodes[i].style.strokeOpacity = 0.2 + 0.8 * w;
      barNodes[i].score.textContent = fmt(scores[i], 2);
      setStyle(barNodes[i].fill, "transform", `scaleX(${w})`);
      barNodes[i].weight.textContent = fmt(w);
      barNodes[i].weight.dataset.value = w;
    });
    const apart = !model.get("values_follow_keys");
    valuesG.style.display = apart ? "" : "none";
    pairs.style.display = apart ? "" : "none";
    follow.checked = !apart;
    const [cx, cy] = toPx(context);
    ctx.setAttribute("transform", `translate(${cx},${cy})`);
    const top = argmax(weights);
    readout.replaceChildren(
      h("div", {}, t("query.queryReadout"), h("span", { class: "aw-q" }, `${fmt(q[0], 2)}, ${fmt(q[1], 2)}`), ")"),
      h("div", {}, t("query.contextReadout"), h("span", { class: "aw-c", "data-x": context[0], "data-y": context[1] },
        `${fmt(context[0])}, ${fmt(context[1])}`), ")"),
      h("div", { class: "aw-muted" }, t("query.largest", { label: model.get("labels")[top], weight: fmt(weights[top]) })));
    if (select.value !== model.get("score")) select.value = model.get("score");
    if (+temp.input.value !== model.get("temperature")) {
      temp.input.value = model.get("temperature");
      temp.out.textContent = fmt(model.get("temperature"), 2);
    }
    model.set("scores", scores);
    model.set("weights", weights);
    model.set("context", context);
    model.save_changes();
  }

  const unlisten = listen(model, ["query", "key_points", "value_points", "labels", "score", "temperature",
    "values_follow_keys"], refresh);
  const unlistenExtent = listen(model, { extent: () => { drawGrid(); refresh(); } });
  refresh();
  return () => { unlisten(); unlistenExtent(); };
}

export default bookWidget(render);
