// BottleneckExplorer: pick an input length; compare each model's greedy output with the
// expected output, token by token; pick an output token and see where each attention model
// looked while writing it (its weights over the input: one row of its alignment).
// Python computed every output and weight when the widget was built (they are in the
// "examples" trait); this module only draws them.
// Every word comes from the "bottleneck." keys of messages.py, through translator(model).
// Helpers h, fmt, slider, argmax, listen, translator come from _common.js.

const CROSS = "\u2717"; // ✗, shown next to a wrong token (with strikethrough: not colour alone)
const DASH = "\u2014"; // shown where a model stopped before the expected output ended

/** Per target position, whether the output has the right token there (missing = wrong). */
function correctness(output, target) {
  return target.map((tok, i) => i < output.length && output[i] === tok);
}

/** One token in a box. Text goes in with textContent (via h), never as HTML. */
function tokenCell(text, { wrong = false, label, special = false } = {}) {
  const cls = "aw-tok" + (wrong ? " aw-wrong" : "") + (special ? " aw-special" : "")
    + (text === null ? " aw-missing" : "");
  const cell = h("span", { class: cls, role: "cell", "aria-label": label },
    h("span", { class: "aw-tok-text" }, text === null ? DASH : text));
  if (wrong) cell.append(h("span", { class: "aw-x", "aria-hidden": "true" }, CROSS));
  return cell;
}

/** "5" for output token 5 of an input of L tokens, "end" for the EOS after the last one. */
function outputName(t, k, L) {
  return k < L ? String(k + 1) : t("bottleneck.end");
}

/** Output token k in a sentence: "output 5", or "output end" for the EOS after the last one. */
function outputPhrase(t, k, L) {
  return k < L ? t("bottleneck.outputN", { i: k + 1 }) : t("bottleneck.outputEnd");
}

function render({ model, el }) {
  const t = translator(model);
  const lengths = model.get("lengths");
  const names = model.get("model_names");
  const perLength = model.get("examples_per_length");
  const [trainMin, trainMax] = model.get("trained_lengths");
  const specials = new Set(["PAD", "SOS", "EOS"]);
  const hasWeights = model.get("examples").some((r) => r.weights.some((w) => w !== null));

  // ---- static layout -------------------------------------------------------
  const len = slider(t("bottleneck.length"), { min: lengths[0], max: lengths[lengths.length - 1], step: 1,
    value: model.get("length"), format: (v) => String(v),
    onInput: (v) => { model.set("length", v); model.save_changes(); } });
  len.node.classList.add("aw-be-length");
  const step = (d) => {
    model.set("example", (model.get("example") + d + perLength) % perLength);
    model.save_changes();
  };
  const prev = h("button", { type: "button", class: "aw-be-btn aw-be-prev", "aria-label": t("bottleneck.previous"),
    onclick: () => step(-1) }, "\u25C0");
  const next = h("button", { type: "button", class: "aw-be-btn aw-be-next", "aria-label": t("bottleneck.next"),
    onclick: () => step(1) }, "\u25B6");
  const which = h("output", { class: "aw-be-which" });
  const chooseOutput = (k) => { if (k !== model.get("output")) { model.set("output", k); model.save_changes(); } };
  const outSlider = slider(t("bottleneck.outputToken"), { min: 1, max: lengths[lengths.length - 1] + 1, step: 1,
    value: model.get("output") + 1, format: (v) => String(v), onInput: (v) => chooseOutput(v - 1) });
  outSlider.node.classList.add("aw-be-output");
  const focus = h("p", { class: "aw-be-focus", "aria-live": "polite" });
  const range = h("p", { class: "aw-be-range" });
  const grid = h("div", { class: "aw-be-grid", role: "table" });
  const scores = h("div", { class: "aw-be-scores", "aria-live": "polite" });
  const help = h("p", { class: "aw-help" }, t("bottleneck.help", { cross: CROSS, dash: DASH })
    + (hasWeights ? t("bottleneck.helpWeights") : ""));
  if (!hasWeights) outSlider.node.hidden = true;
  el.append(h("div", { class: "aw-be" + (hasWeights ? " aw-be-pickable" : "") },
    h("div", { class: "aw-controls" }, len.node,
      h("span", { class: "aw-control aw-be-examples", role: "group", "aria-label": t("bottleneck.example") },
        prev, which, next), outSlider.node),
    range, h("div", { class: "aw-be-scroll" }, grid), focus, scores, help));

  // ---- drawing ---------------------------------------------------------------
  function row(label, cells, attrs = {}) {
    return h("div", { class: "aw-be-row", role: "row", ...attrs },
      h("span", { class: "aw-be-label", role: "rowheader" }, label), ...cells);
  }

  /** The row of one attention model's weights over the input while it wrote output token `at`. */
  function weightRow(name, m, rec, at) {
    const L = rec.length, rows = rec.weights[m], out = rec.outputs[m];
    const w = at < rows.length ? rows[at] : null; // null: the model had stopped before `at`
    const top = w === null ? -1 : argmax(w);
    const output = outputPhrase(t, at, L);
    const cells = rec.target.map((_, j) => {
      if (j >= L) return h("span", { class: "aw-blank", role: "cell" });
      if (w === null) return h("span", { class: "aw-tok aw-be-w aw-missing", role: "cell",
        "aria-label": t("bottleneck.stopped", { name, output }) }, h("span", { class: "aw-tok-text" }, DASH));
      const cell = h("span", { class: "aw-tok aw-be-w" + (j === top ? " aw-be-wmax" : ""), role: "cell",
        "data-weight": w[j], "aria-label": t("bottleneck.weightCell",
          { name, output, token: out[at], weight: fmt(w[j], 2), i: j + 1, source: rec.source[j] }) },
      h("span", { class: "aw-tok-text" }, fmt(w[j], 2)));
      cell.style.setProperty("--w", w[j]);
      return cell;
    });
    return row(t("bottleneck.weightsRow", { name }), cells,
      { "data-row": `weights-${m}`, class: "aw-be-row aw-be-weights" });
  }

  /** One sentence per attention model; each message carries its own trailing space (none in Chinese). */
  function focusText(rec, at) {
    const output = outputPhrase(t, at, rec.length), parts = [];
    names.forEach((name, m) => {
      const rows = rec.weights[m];
      if (rows === null) return;
      if (at >= rows.length) { parts.push(t("bottleneck.focusStopped", { name, output })); return; }
      const w = rows[at], j = argmax(w);
      parts.push(t("bottleneck.focus", { name, output, token: rec.outputs[m][at], weight: fmt(w[j], 2),
        i: j + 1, source: rec.source[j] }));
    });
    return parts.join("").trim();
  }

  function refresh() {
    const L = model.get("length"), k = model.get("example");
    const recs = model.get("examples").filter((r) => r.length === L);
    const rec = recs[k];
    const T = rec.target.length; // L tokens + EOS
    const at = Math.min(model.get("output"), L); // the selected output token, clamped to this input
    if (+len.input.value !== L) { len.input.value = L; len.out.textContent = String(L); }
    outSlider.input.max = L + 1;
    outSlider.input.value = at + 1;
    outSlider.out.textContent = outputName(t, at, L);
    outSlider.input.setAttribute("aria-valuetext", outputName(t, at, L));
    which.textContent = t("bottleneck.which", { k: k + 1, n: recs.length });
    const inside = L >= trainMin && L <= trainMax;
    range.className = "aw-be-range " + (inside ? "aw-be-inside" : "aw-be-beyond");
    range.textContent = t(inside ? "bottleneck.inside" : "bottleneck.beyond", { L, lo: trainMin, hi: trainMax });

    grid.style.setProperty("--aw-n", T);
    grid.setAttribute("aria-label", t("bottleneck.grid", { L }));
    const end = t("bottleneck.end");
    const pick = (i) => (hasWeights ? { onclick: () => chooseOutput(i) } : {});
    const header = row(t("bottleneck.position"), rec.target.map((_, i) =>
      h("span", { class: "aw-pos" + (hasWeights && i === at ? " aw-be-at" : ""), role: "columnheader",
        ...pick(i) }, i < L ? String(i + 1) : end)), { "data-row": "position" });
    const source = row(t("bottleneck.input"), [...rec.source.map((tok, i) =>
      tokenCell(tok, { label: t("bottleneck.inputCell", { i: i + 1, token: tok }) })),
      ...rec.target.slice(rec.source.length).map(() => h("span", { class: "aw-blank", role: "cell" }))],
    { "data-row": "input" });
    const atCell = (cell, i) => {
      if (!hasWeights) return cell;
      if (i === at) cell.classList.add("aw-be-at");
      cell.addEventListener("click", () => chooseOutput(i));
      return cell;
    };
    const target = row(t("bottleneck.expected"), rec.target.map((tok, i) => atCell(tokenCell(tok,
      { special: specials.has(tok), label: t("bottleneck.expectedCell", { where: i < L ? i + 1 : end, token: tok }) }),
    i)),
    { "data-row": "target" });
    const modelRows = names.map((name, m) => {
      const out = rec.outputs[m], ok = correctness(out, rec.target);
      return row(name, rec.target.map((want, i) => {
        const got = i < out.length ? out[i] : null;
        const where = i < L ? t("bottleneck.positionN", { i: i + 1 }) : end;
        const label = ok[i] ? t("bottleneck.right", { name, where, token: got })
          : t("bottleneck.wrong", { name, where, token: got === null ? t("bottleneck.nothing") : got, want });
        return atCell(tokenCell(got, { wrong: !ok[i], special: specials.has(got), label }), i);
      }), { "data-row": `model-${m}`, class: "aw-be-row aw-be-model" });
    });
    const weightRows = names.flatMap((name, m) => (rec.weights[m] === null ? [] : [weightRow(name, m, rec, at)]));
    grid.replaceChildren(header, source, target, ...modelRows, ...weightRows);
    focus.textContent = hasWeights ? focusText(rec, at) : "";

    scores.replaceChildren(...names.map((name, m) => {
      const right = correctness(rec.outputs[m], rec.target).filter(Boolean).length;
      let allRight = 0, all = 0;
      for (const r of recs) {
        allRight += correctness(r.outputs[m], r.target).filter(Boolean).length;
        all += r.target.length;
      }
      return h("div", { class: "aw-acc", "data-model": m, "data-correct": right, "data-total": T,
        "data-mean": allRight / all },
      h("strong", {}, name), t("bottleneck.score", { right, T, pct: fmt(100 * right / T, 0) }),
      h("span", { class: "aw-muted" },
        t("bottleneck.allScore", { n: recs.length, L, pct: fmt(100 * allRight / all, 0) })));
    }));
  }

  const unlisten = listen(model, ["length", "example", "output"], refresh);
  refresh();
  return unlisten;
}

export default bookWidget(render);
