"""BottleneckExplorer: pick an input length and compare two models' outputs on the same inputs.

Chapter 1 trains an encoder–decoder that reads one fixed vector and the same model
with attention. This widget shows, for each input length, a few test inputs, the
expected output and each model's greedy output, wrong tokens marked; pick one output
token and it shows where each attention model looked while writing it (its weights
over the input tokens: one row of its alignment).

Everything is computed once, in Python, when the widget is built: the examples,
the models' outputs and attention weights are stored as synced traits, so the page
needs no kernel and the browser only draws. The examples of length ``L`` are::

    SequenceTask(task.name, task.vocab_size, L, L).sample(examples_per_length,
                                                           np.random.default_rng([seed, L]))

and each model's output is ``model.greedy_decode(src, src_lengths, max_len=L + 1)``
(as :func:`attnlib.train.predict` does), cut after its first ``EOS``, with the weights
that call returns (rounded to ``WEIGHT_DIGITS`` decimals; ``None`` for a model without
attention).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import traitlets as t

from .._validate import check_index, check_int
from ..batch import EOS, PAD, SOS
from ..data.synthetic import SequenceTask
from ..seq2seq import Seq2Seq
from ._base import BookWidget, read_asset

SPECIAL_NAMES = {PAD: "PAD", SOS: "SOS", EOS: "EOS"}
MAX_MODELS = 4  # more rows than this would not fit on a page
MAX_EXAMPLES = 20  # per length
WEIGHT_DIGITS = 3  # decimals of the attention weights in the payload: enough to draw


def default_token_names(vocab_size: int) -> list[str]:
    """``PAD``, ``SOS``, ``EOS``, then each ordinary token's id as text: ``"3"``, ``"4"``, ..."""
    return [SPECIAL_NAMES.get(i, str(i)) for i in range(vocab_size)]


def _check_models(models: Any, vocab_size: int) -> dict[str, Seq2Seq]:
    """A mapping name -> Seq2Seq model, 1 to MAX_MODELS of them, each able to read the task's tokens."""
    if not isinstance(models, Mapping):
        raise TypeError(
            "models must be a dict {name: model}, e.g. {'fixed vector': fixed, "
            f"'attention': attn}}; got {type(models).__name__}"
        )
    if not 1 <= len(models) <= MAX_MODELS:
        raise ValueError(f"models must hold 1 to {MAX_MODELS} models, got {len(models)}")
    for name, model in models.items():
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"model names must be non-empty strings, got {name!r}")
        if not isinstance(model, Seq2Seq):
            raise TypeError(f"models[{name!r}] must be an attnlib Seq2Seq model, got {type(model).__name__}")
        c = model.config
        if min(c.src_vocab, c.tgt_vocab) < vocab_size:
            raise ValueError(
                f"models[{name!r}] has vocabularies of sizes {c.src_vocab} (src) and "
                f"{c.tgt_vocab} (tgt), too small for the task's {vocab_size} tokens"
            )
        if (c.pad_id, c.sos_id, c.eos_id) != (PAD, SOS, EOS):
            raise ValueError(
                f"models[{name!r}] uses special ids pad/sos/eos = {c.pad_id}/{c.sos_id}/"
                f"{c.eos_id}; the synthetic tasks use {PAD}/{SOS}/{EOS}"
            )
    return dict(models)


def _check_lengths(lengths: Any) -> list[int]:
    """Consecutive input lengths, ascending: the slider's stops."""
    if isinstance(lengths, (str, bytes)) or not isinstance(lengths, Iterable):
        raise TypeError(f"lengths must be a range or a list of ints, got {type(lengths).__name__}")
    out = [check_int("each length", n, 1) for n in lengths]
    if not out:
        raise ValueError("lengths is empty: give at least one input length")
    if out != list(range(out[0], out[0] + len(out))):
        raise ValueError(f"lengths must be consecutive ascending ints, like range(3, 21); got {out}")
    return out


def _check_token_names(names: Any, vocab_size: int) -> list[str]:
    if names is None:
        return default_token_names(vocab_size)
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(f"token_names must be a list of strings, got {type(names).__name__}")
    names = list(names)
    if len(names) != vocab_size or not all(isinstance(n, str) and n for n in names):
        raise ValueError(
            f"token_names must be {vocab_size} non-empty strings, one per token id; got {len(names)} items"
        )
    if len(set(names)) != len(names):
        raise ValueError("token_names must be distinct, or a wrong token could look right")
    return names


@torch.no_grad()
def greedy_outputs_and_weights(
    model: Seq2Seq, src: torch.Tensor, src_lengths: torch.Tensor, max_len: int
) -> tuple[list[list[int]], list[list[list[float]]] | None]:
    """Each sequence's greedy output ids, up to and including its first EOS, and the attention
    weights of each output step over the source's real tokens (None without attention)."""
    was_training = model.training
    model.eval()
    try:
        tokens, weights = model.greedy_decode(
            src, src_lengths, max_len=max_len
        )  # (B, max_len), (B, max_len, T_in)
    finally:
        model.train(was_training)
    out, rows = [], []
    for i, row in enumerate(tokens.tolist()):
        end = row.index(EOS) + 1 if EOS in row else len(row)
        out.append(row[:end])
        if weights is not None:
            w = weights[i, :end, : int(src_lengths[i])].double().numpy()  # (outputs, L)
            rows.append(np.round(w, WEIGHT_DIGITS).tolist())
    return out, (rows if weights is not None else None)


def greedy_outputs(
    model: Seq2Seq, src: torch.Tensor, src_lengths: torch.Tensor, max_len: int
) -> list[list[int]]:
    """Each sequence's greedy output ids, up to and including its first EOS."""
    return greedy_outputs_and_weights(model, src, src_lengths, max_len)[0]


class BottleneckExplorer(BookWidget):
    """Pick an input length; see each model's greedy output on the same inputs, errors marked.

    Parameters
    ----------
    models : dict {name: Seq2Seq}
        One to four trained models, e.g. ``{"fixed vector": fixed, "attention": attn}``.
    task : SequenceTask
        The training task: its name (copy/reverse) and vocabulary are used for the
        examples, and its ``min_len..max_len`` is shown as the trained range.
    lengths : range or list of int, optional
        Consecutive input lengths to choose from; default ``task.min_len .. task.max_len + 5``.
    examples_per_length : int
        How many inputs of each length (1 to 20).
    seed : int
        Seeds the examples (see the module docstring).
    token_names : list of str, optional
        One distinct display name per token id; default ``PAD``, ``SOS``, ``EOS`` then each id as text.
        Shown as text, never interpreted as HTML.
    length : int, optional
        The length shown first; default the longest trained length.
    output : int, optional
        The output token whose attention weights are shown first (0-based; default 0).

    Synced traits: ``model_names``, ``lengths``, ``trained_lengths`` ([min, max]),
    ``examples`` (one dict per example: ``length``, ``source``, ``target``,
    ``outputs``, one token list per model, and ``weights``, per model ``None`` or one
    row of weights over the input per output token), and the selection ``length``,
    ``example``, ``output`` (the page clamps ``output`` to the example's last token).
    """

    _esm = read_asset("_common.js", "bottleneck_explorer.js")
    _css = read_asset("_common.css", "bottleneck_explorer.css")
    _plain_name = "bottleneck explorer"
    _messages = "bottleneck"  # its words: the "bottleneck." keys of messages.py

    model_names = t.List(t.Unicode()).tag(sync=True)  # one name per model, in display order
    task_name = t.Unicode("copy").tag(sync=True)  # "copy" or "reverse"
    lengths = t.List(t.Int()).tag(sync=True)  # consecutive input lengths, ascending
    trained_lengths = t.List(t.Int()).tag(sync=True)  # [min, max] input length seen in training
    examples_per_length = t.Int(1).tag(sync=True)
    examples = t.List(t.Dict()).tag(sync=True)  # examples_per_length records per length, in order
    length = t.Int(1).tag(sync=True)  # the selected input length
    example = t.Int(0).tag(sync=True)  # the selected example, 0 .. examples_per_length - 1
    output = t.Int(0).tag(sync=True)  # the selected output token, 0 .. length (the last is EOS)

    def __init__(
        self,
        models: Mapping[str, Seq2Seq],
        task: SequenceTask,
        lengths: Iterable[int] | None = None,
        examples_per_length: int = 3,
        seed: int = 0,
        token_names: Sequence[str] | None = None,
        length: int | None = None,
        output: int = 0,
    ) -> None:
        if not isinstance(task, SequenceTask):
            raise TypeError(f"task must be an attnlib SequenceTask, got {type(task).__name__}")
        models = _check_models(models, task.vocab_size)
        lengths = _check_lengths(range(task.min_len, task.max_len + 6) if lengths is None else lengths)
        n = check_int("examples_per_length", examples_per_length, 1, MAX_EXAMPLES)
        seed = check_int("seed", seed, 0)
        names = _check_token_names(token_names, task.vocab_size)
        length = min(max(task.max_len, lengths[0]), lengths[-1]) if length is None else length
        length = check_int("length", length, lengths[0], lengths[-1])
        output = check_int("output", output, 0, lengths[-1])
        records = []
        for L in lengths:
            batch = SequenceTask(task.name, task.vocab_size, L, L).sample(n, np.random.default_rng([seed, L]))
            decoded = [
                greedy_outputs_and_weights(m, batch.src, batch.src_lengths, L + 1) for m in models.values()
            ]
            for i in range(n):
                records.append(
                    {
                        "length": L,
                        "source": [names[k] for k in batch.src[i].tolist()],
                        "target": [names[k] for k in batch.tgt_out[i].tolist()],  # L tokens + EOS
                        "outputs": [[names[k] for k in out[i]] for out, _ in decoded],
                        "weights": [None if w is None else w[i] for _, w in decoded],  # (outputs, L) each
                    }
                )
        super().__init__(
            model_names=list(models),
            task_name=task.name,
            lengths=lengths,
            trained_lengths=[task.min_len, task.max_len],
            examples_per_length=n,
            examples=records,
            length=length,
            example=0,
            output=output,
        )

    @t.validate("length")
    def _check_length(self, proposal: dict) -> int:
        if not self.lengths:  # __init__ is still setting traits
            return proposal["value"]
        return self.validated(check_int, "length", proposal["value"], self.lengths[0], self.lengths[-1])

    @t.validate("output")
    def _check_output(self, proposal: dict) -> int:
        if not self.lengths:  # __init__ is still setting traits
            return proposal["value"]
        return self.validated(check_int, "output", proposal["value"], 0, self.lengths[-1])

    @t.validate("example")
    def _check_example(self, proposal: dict) -> int:
        return self.validated(check_index, "example", proposal["value"], self.examples_per_length)

    def records(self, length: int | None = None) -> list[dict]:
        """The examples of one input length (default: the selected one)."""
        length = self.length if length is None else length
        if length not in self.lengths:
            raise ValueError(f"length must be one of {self.lengths[0]}..{self.lengths[-1]}, got {length}")
        return [r for r in self.examples if r["length"] == length]

    def selected(self) -> dict:
        """The example on show."""
        return self.records()[self.example]

    def attention_row(self, model: int | str) -> list[float] | None:
        """Where ``model`` (index or name) looked while writing the selected output token of the
        selected example: its weights over the input tokens (length L), as the page shows them.

        ``None`` if the model has no attention, or stopped (wrote EOS) before that token. The
        page clamps the output index to the example's last token; so does this method.
        """
        if isinstance(model, str):
            if model not in self.model_names:
                raise ValueError(f"model must be one of {self.model_names} or an index, got {model!r}")
            m = self.model_names.index(model)
        else:
            m = check_index("model", model, len(self.model_names))
        rec = self.selected()
        weights = rec["weights"][m]
        k = min(self.output, rec["length"])  # L tokens + EOS: indices 0..L
        if weights is None or k >= len(weights):
            return None
        return weights[k]

    @staticmethod
    def correct(output: Sequence[str], target: Sequence[str]) -> list[bool]:
        """Per target position: did the output have the right token there? (Missing = wrong.)"""
        return [i < len(output) and output[i] == tok for i, tok in enumerate(target)]

    def accuracy(self, length: int | None = None) -> list[float]:
        """Each model's token accuracy over the examples of one length (EOS counts as a token)."""
        recs = self.records(length)
        total = sum(len(r["target"]) for r in recs)
        return [
            sum(sum(self.correct(r["outputs"][m], r["target"])) for r in recs) / total
            for m in range(len(self.model_names))
        ]

    def _repr_summary(self) -> str:
        names = ", ".join(repr(n) for n in self.model_names)
        return (
            f"{names}; {self.task_name} task, lengths {self.lengths[0]}-{self.lengths[-1]}, "
            f"{self.examples_per_length} examples each; showing length {self.length}, "
            f"output {self.output + 1}"
        )
