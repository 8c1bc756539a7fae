r"""AlignmentExplorer: step through a trained decoder and watch where it looks.

At decoder step :math:`t` the translator reads the context vector
:math:`c_t = \sum_j \alpha_{tj} h_j` and writes one English word. The widget shows,
for one sentence pair and its alignment matrix :math:`A = (\alpha_{tj})`:

* the source tokens, shaded by the current row :math:`\alpha_t` (numbers shown);
* how the focus (the largest weight) moved since the previous step, and over how
  many tokens the row is spread (:math:`2^{H_t}`): the quantities
  :mod:`attnlib.alignment` measures over a whole test set (chapter 4 finds that its
  translator's focus stays, hops and jumps rather than sliding one token per word);
* the whole matrix, the current row outlined;
* a 2-D picture of the encoder states :math:`h_j` and of the path of
  :math:`c_1, \dots, c_t` so far. The picture is the principal-component (PCA)
  projection of the :math:`h_j`; it is affine, so each projected :math:`c_t` is the
  same weighted average of the projected :math:`h_j` as :math:`c_t` is of the
  :math:`h_j`: the point sits where the weights pull it.

Everything the page draws is precomputed in Python and synced as traits, so the
static book needs no kernel. With a kernel and a ``translator``, a reader can
also type a new Chinese sentence; Python translates it and updates the traits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import traitlets as t

from .._validate import as_float_array, check_finite, check_index, check_tokens
from ._base import BookWidget, read_asset

MAX_TYPED = 40  # characters a reader may type into the sentence box


def project_2d(states: Any, contexts: Any) -> tuple[np.ndarray, np.ndarray, float]:
    """PCA of the encoder states; return (states (T_in, 2), contexts (T_out, 2), explained).

    The axes are the top two principal directions of the centred states (fewer
    states than that leave an axis at 0), each signed so that its largest
    component is positive, and both projections are scaled so the largest
    coordinate has magnitude 1. ``explained`` is the share of the states'
    variance the two axes keep (1.0 if the states do not vary).
    """
    h, c = as_float_array("states", states), as_float_array("contexts", contexts)
    if h.ndim != 2 or c.ndim != 2 or h.shape[1] != c.shape[1] or len(h) == 0 or len(c) == 0:
        raise ValueError(
            f"need states (T_in, d) and contexts (T_out, d) of the same width d; "
            f"got states {h.shape}, contexts {c.shape}"
        )
    check_finite("states", h)
    check_finite("contexts", c)
    mean = h.mean(axis=0)
    _, sv, vt = np.linalg.svd(h - mean, full_matrices=False)  # rows of vt: principal axes
    axes = np.zeros((2, h.shape[1]))
    axes[: min(2, len(vt))] = vt[:2]
    for axis in axes:
        if axis.any() and axis[np.abs(axis).argmax()] < 0:
            axis *= -1
    hp, cp = (h - mean) @ axes.T, (c - mean) @ axes.T  # (T_in, 2), (T_out, 2)
    scale = max(np.abs(hp).max(), np.abs(cp).max())
    if scale > 0:
        hp, cp = hp / scale, cp / scale
    total = float((sv**2).sum())
    explained = float((sv[:2] ** 2).sum() / total) if total > 0 else 1.0
    return hp, cp, explained


def example_from_translation(translation: Any, label: str, reference: str = "") -> dict:
    """The widget's data for one :class:`~attnlib.translate.Translation` (rounded for the page)."""
    if getattr(translation, "weights", None) is None:
        raise ValueError(
            "the translation has no attention weights (a model without attention?); "
            "AlignmentExplorer needs an AttentionSeq2Seq's translation"
        )
    if not isinstance(label, str) or not isinstance(reference, str):
        raise TypeError("label and reference must be strings")
    source = check_tokens("source", translation.source)
    output = check_tokens("output", translation.output)
    w = as_float_array("weights", translation.weights)
    if w.shape != (len(output), len(source)):
        raise ValueError(
            f"weights must have shape (T_out, T_in) = ({len(output)}, {len(source)}), "
            f"one row per output token; got {w.shape}"
        )
    check_finite("weights", w)
    if (w < 0).any() or not np.allclose(w.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError("each row of weights must be non-negative and sum to 1")
    hp, cp, explained = project_2d(translation.states, translation.contexts)
    r = lambda a, d=4: np.round(np.asarray(a, dtype=float), d).tolist()  # noqa: E731
    return {
        "label": label,
        "source": source,
        "output": output,
        "reference": reference,
        "weights": r(w),
        "source_points": r(hp),
        "context_points": r(cp),
        "explained": round(explained, 4),
    }


def _check_example(i: int, ex: Any) -> dict:
    """Check one example dict (as made by :func:`example_from_translation`)."""
    need = ("label", "source", "output", "weights", "source_points", "context_points")
    if not isinstance(ex, dict) or any(k not in ex for k in need):
        raise ValueError(f"examples[{i}] must be a Translation or a dict with keys {need}")
    n_in, n_out = len(check_tokens("source", ex["source"])), len(check_tokens("output", ex["output"]))
    for key, shape in (
        ("weights", (n_out, n_in)),
        ("source_points", (n_in, 2)),
        ("context_points", (n_out, 2)),
    ):
        arr = as_float_array(f"examples[{i}]['{key}']", ex[key])
        if arr.shape != shape:
            raise ValueError(f"examples[{i}]['{key}'] must have shape {shape}, got {arr.shape}")
        check_finite(f"examples[{i}]['{key}']", arr)
    return {"reference": "", "explained": 1.0, **ex}


class AlignmentExplorer(BookWidget):
    """Step through a decoder: where each step looks, how its focus moves, where the context goes.

    Parameters
    ----------
    examples : list of Translation or dict
        The sentences to choose from: :class:`~attnlib.translate.Translation` objects
        (from an attention model) or dicts made by ``example_from_translation``
        (in this module).
    labels : list of str, optional
        One label per example for the selector (default: the source sentence).
    references : list of str, optional
        A reference translation per example, shown under the output ("" for none).
    translator : callable, optional
        ``translator(text) -> Translation``. With it, the reader can type a new
        Chinese sentence (needs a running kernel; the static page disables the box).
    example, step : int
        The example and the decoder step shown first.

    Synced output: ``weights (T_in,)``, the current row of the alignment matrix.
    """

    _esm = read_asset("_common.js", "alignment_explorer.js")
    _css = read_asset("_common.css", "alignment_explorer.css")
    _plain_name = "alignment explorer"
    _messages = "alignment"  # its words: the "alignment." keys of messages.py

    examples = t.List(t.Dict()).tag(sync=True)  # the precomputed sentences
    example = t.Int(0).tag(sync=True)  # index into examples
    step = t.Int(0).tag(sync=True)  # decoder step t (0-based) within the example
    sentence = t.Unicode("").tag(sync=True)  # typed by the reader; translated by Python
    live = t.Bool(False).tag(sync=True)  # a translator is attached (never in the static page)
    status = t.Unicode("").tag(sync=True)  # a message about the typed sentence
    weights = t.List(t.Float()).tag(sync=True)  # (T_in,) output: examples[example].weights[step]

    def __init__(
        self,
        examples: Sequence[Any],
        labels: Sequence[str] | None = None,
        references: Sequence[str] | None = None,
        translator: Callable[[str], Any] | None = None,
        example: int = 0,
        step: int = 0,
    ) -> None:
        if isinstance(examples, (str, dict)) or not isinstance(examples, Sequence) or not examples:
            raise ValueError("examples must be a non-empty list of Translations or example dicts")
        n = len(examples)
        labels = self._strings("labels", labels, n)
        references = self._strings("references", references, n)
        data = []
        for i, ex in enumerate(examples):
            if isinstance(ex, dict):
                data.append(_check_example(i, ex))
            else:
                label = labels[i] if labels else "".join(getattr(ex, "source", ()))
                data.append(example_from_translation(ex, label, references[i] if references else ""))
        if labels and any(isinstance(ex, dict) for ex in examples):
            data = [{**d, "label": lab} for d, lab in zip(data, labels, strict=True)]
        if translator is not None and not callable(translator):
            raise TypeError(
                f"translator must be callable (text -> Translation), got {type(translator).__name__}"
            )
        self._translator = translator
        self._fixed = n  # examples given by the author; a typed sentence is appended after them
        super().__init__(examples=data, live=translator is not None)
        self.example = example
        self.step = step
        self._update_weights()

    @staticmethod
    def _strings(name: str, values: Sequence[str] | None, n: int) -> list[str]:
        if values is None:
            return []
        if (
            isinstance(values, str)
            or not isinstance(values, Sequence)
            or len(values) != n
            or not all(isinstance(v, str) for v in values)
        ):
            raise ValueError(f"{name} must be {n} strings, one per example; got {values!r}")
        return list(values)

    # -- validation ---------------------------------------------------------------
    @t.validate("example")
    def _check_example_index(self, proposal: dict) -> int:
        return self.validated(check_index, "example", proposal["value"], len(self.examples))

    @t.validate("step")
    def _check_step(self, proposal: dict) -> int:
        n = len(self.examples[self.example]["output"]) if self.examples else 1
        return self.validated(check_index, "step", proposal["value"], n)

    @t.observe("example")
    def _on_example(self, change: dict) -> None:
        if self.step >= len(self.examples[self.example]["output"]):
            self.step = 0
        self._update_weights()

    @t.observe("step")
    def _on_step(self, change: dict) -> None:
        self._update_weights()

    def _update_weights(self) -> None:
        if self.examples:
            self.weights = list(self.examples[self.example]["weights"][self.step])

    # -- the reader's own sentence --------------------------------------------------
    @t.observe("sentence")
    def _on_sentence(self, change: dict) -> None:
        text = change["new"].strip()
        if self._translator is None or not text:
            return
        self.status = ""  # so that the page sees a change even if the message repeats
        if len(text) > MAX_TYPED:
            self.status = self.message("alignment.tooLong", n=MAX_TYPED)
            return
        try:
            ex = example_from_translation(self._translator(text), self.message("alignment.yours", text=text))
        except (TypeError, ValueError) as err:
            self.status = self.message("alignment.failed", text=repr(text), error=err)
            return
        self.step = 0
        self.examples = [*self.examples[: self._fixed], ex]
        self.example = len(self.examples) - 1
        self._update_weights()
        self.status = self.message("alignment.translated", output=" ".join(ex["output"]))

    def static_state(self) -> dict[str, Any]:
        """As for every BookWidget, except that a static page has no kernel to translate."""
        return {**super().static_state(), "live": False}

    def _repr_summary(self) -> str:
        ex = self.examples[self.example]
        return (
            f"{len(self.examples)} examples, example={self.example} "
            f"({len(ex['source'])} source, {len(ex['output'])} output tokens), step={self.step}"
        )
