// BottleneckExplorer: pick an input length; compare each model's greedy output with the
// expected output, token by token. Python computed every output when the widget was
// built (they are in the "examples" trait); this module only draws them.
// Helpers h, fmt, slider, listen come from _common.js.

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

function render({ model, el }) {
  const t = translator(model);
  const lengths = model.get("lengths");
  const names = model.get("model_names");
  const perLength = model.get("examples_per_length");
  const [trainMin, trainMax] = model.get("trained_lengths");
  const specials = new Set(["PAD", "SOS", "EOS"]);

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
  const range = h("p", { class: "aw-be-range" });
  const grid = h("div", { class: "aw-be-grid", role: "table" });
  const scores = h("div", { class: "aw-be-scores", "aria-live": "polite" });
  const help = h("p", { class: "aw-help" }, t("bottleneck.help", { cross: CROSS, dash: DASH }));
  el.append(h("div", { class: "aw-be" },
    h("div", { class: "aw-controls" }, len.node,
      h("span", { class: "aw-control aw-be-examples", role: "group", "aria-label": t("bottleneck.example") },
        prev, which, next)),
    range, h("div", { class: "aw-be-scroll" }, grid), scores, help));

  // ---- drawing ---------------------------------------------------------------
  function row(label, cells, attrs = {}) {
    return h("div", { class: "aw-be-row", role: "row", ...attrs },
      h("span", { class: "aw-be-label", role: "rowheader" }, label), ...cells);
  }

  function refresh() {
    const L = model.get("length"), k = model.get("example");
    const recs = model.get("examples").filter((r) => r.length === L);
    const rec = recs[k];
    const T = rec.target.length; // L tokens + EOS
    if (+len.input.value !== L) { len.input.value = L; len.out.textContent = String(L); }
    which.textContent = t("bottleneck.which", { k: k + 1, n: recs.length });
    const inside = L >= trainMin && L <= trainMax;
    range.className = "aw-be-range " + (inside ? "aw-be-inside" : "aw-be-beyond");
    range.textContent = t(inside ? "bottleneck.inside" : "bottleneck.beyond", { L, lo: trainMin, hi: trainMax });

    grid.style.setProperty("--aw-n", T);
    grid.setAttribute("aria-label", t("bottleneck.grid", { L }));
    const end = t("bottleneck.end");
    const header = row(t("bottleneck.position"), rec.target.map((_, i) =>
      h("span", { class: "aw-pos", role: "columnheader" }, i < L ? String(i + 1) : end)), { "data-row": "position" });
    const source = row(t("bottleneck.input"), [...rec.source.map((tok, i) =>
      tokenCell(tok, { label: t("bottleneck.inputCell", { i: i + 1, token: tok }) })),
      ...rec.target.slice(rec.source.length).map(() => h("span", { class: "aw-blank", role: "cell" }))],
    { "data-row": "input" });
    const target = row(t("bottleneck.expected"), rec.target.map((tok, i) => tokenCell(tok,
      { special: specials.has(tok), label: t("bottleneck.expectedCell", { where: i < L ? i + 1 : end, token: tok }) })),
    { "data-row": "target" });
    const modelRows = names.map((name, m) => {
      const out = rec.outputs[m], ok = correctness(out, rec.target);
      return row(name, rec.target.map((want, i) => {
        const got = i < out.length ? out[i] : null;
        const where = i < L ? t("bottleneck.positionN", { i: i + 1 }) : end;
        const label = ok[i] ? t("bottleneck.right", { name, where, token: got })
          : t("bottleneck.wrong", { name, where, token: got === null ? t("bottleneck.nothing") : got, want });
        return tokenCell(got, { wrong: !ok[i], special: specials.has(got), label });
      }), { "data-row": `model-${m}`, class: "aw-be-row aw-be-model" });
    });
    grid.replaceChildren(header, source, target, ...modelRows);

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

  const unlisten = listen(model, ["length", "example"], refresh);
  refresh();
  return unlisten;
}

export default bookWidget(render);
