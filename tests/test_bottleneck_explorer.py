"""BottleneckExplorer without a kernel: precomputed outputs, traits, mimebundle, escaping, bad input."""

import json
import re

import numpy as np
import pytest
import torch
import traitlets
from widget_payload import page_payload

from attnlib.data import EOS, SequenceTask
from attnlib.seq2seq import AttentionSeq2Seq, FixedContextSeq2Seq, Seq2SeqConfig
from attnlib.train import token_accuracy
from attnlib.widgets import BottleneckExplorer
from attnlib.widgets.bottleneck_explorer import default_token_names
from attnlib.widgets.messages import ZH, messages_for

EVIL = "</script><img src=x onerror=alert(1)>"
VOCAB = 12


@pytest.fixture(scope="module")
def models():
    """Two small untrained models with fixed weights: fast, and their outputs vary."""
    config = Seq2SeqConfig(VOCAB, VOCAB, embed=8, hidden=16, attention_hidden=8)
    out = {}
    for seed, (name, Model) in enumerate((("fixed", FixedContextSeq2Seq), ("attention", AttentionSeq2Seq))):
        torch.manual_seed(seed)
        out[name] = Model(config).eval()
    return out


@pytest.fixture(scope="module", params=["copy", "reverse"])
def task(request):
    return SequenceTask(request.param, VOCAB, 2, 5)


@pytest.fixture(scope="module")
def widget(models, task):
    return make(models, task)


def make(models, task, **kwargs):
    kwargs = {"lengths": range(2, 8), "examples_per_length": 3, **kwargs}
    return BottleneckExplorer(models, task, **kwargs)


def test_examples_cover_every_length_with_source_and_target(widget, models, task):
    w = widget
    names = default_token_names(VOCAB)
    assert w.lengths == [2, 3, 4, 5, 6, 7] and w.trained_lengths == [2, 5]
    assert w.model_names == ["fixed", "attention"] and w.task_name == task.name
    assert len(w.examples) == 6 * 3
    for r in w.examples:
        L = r["length"]
        assert len(r["source"]) == L and len(r["target"]) == L + 1 and r["target"][-1] == "EOS"
        body = r["source"] if task.name == "copy" else r["source"][::-1]
        assert r["target"][:-1] == body
        assert set(r["source"]) <= set(names[3:])
        assert len(r["outputs"]) == 2 and all(1 <= len(o) <= L + 1 for o in r["outputs"])


def test_outputs_are_the_models_greedy_decode(widget, models, task):
    w = widget
    index = {name: i for i, name in enumerate(default_token_names(VOCAB))}
    for L in w.lengths:
        recs = w.records(L)
        src = torch.tensor([[index[tok] for tok in r["source"]] for r in recs])  # (n, L)
        src_lengths = torch.full((len(recs),), L)
        for m, model in enumerate(models.values()):
            tokens, _ = model.greedy_decode(src, src_lengths, max_len=L + 1)  # (n, L + 1)
            for r, row in zip(recs, tokens.tolist(), strict=True):
                end = row.index(EOS) + 1 if EOS in row else len(row)
                assert r["outputs"][m] == [default_token_names(VOCAB)[k] for k in row[:end]]


def test_weights_are_the_attention_models_greedy_weights(widget, models, task):
    w = widget
    index = {name: i for i, name in enumerate(default_token_names(VOCAB))}
    for L in w.lengths:
        recs = w.records(L)
        src = torch.tensor([[index[tok] for tok in r["source"]] for r in recs])  # (n, L)
        _, weights = models["attention"].greedy_decode(src, torch.full((len(recs),), L), max_len=L + 1)
        for i, r in enumerate(recs):
            assert r["weights"][0] is None  # the fixed vector attends to nothing
            rows = r["weights"][1]
            assert len(rows) == len(r["outputs"][1]) and all(len(row) == L for row in rows)
            np.testing.assert_allclose(rows, weights[i, : len(rows), :L].numpy(), atol=5e-4)
            assert all(abs(sum(row) - 1) < 0.01 for row in rows)


def test_attention_row_follows_the_selection_and_clamps_the_output(models):
    w = make(models, SequenceTask("copy", VOCAB, 2, 5), length=4, output=2)
    assert w.output == 2 and w.attention_row("fixed") is None
    assert w.attention_row("attention") == w.selected()["weights"][1][2] == w.attention_row(1)
    w.output = 7  # past the end of a 4-token input: the page and the method show its EOS step, index 4
    rows = w.selected()["weights"][1]
    assert w.attention_row("attention") == (rows[4] if len(rows) > 4 else None)
    with pytest.raises(traitlets.TraitError, match=re.escape("output must be in [0, 7]")):
        w.output = 8
    with pytest.raises(ValueError, match="model must be one of"):
        w.attention_row("nobody")


def test_accuracy_is_attnlibs_token_accuracy(widget, models, task):
    w = widget
    index = {name: i for i, name in enumerate(default_token_names(VOCAB))}
    for L in (2, 5, 7):
        recs = w.records(L)
        target = torch.tensor([[index[t] for t in r["target"]] for r in recs])
        for m, acc in enumerate(w.accuracy(L)):
            pred = torch.zeros_like(target)  # PAD after the output's end, as greedy_decode leaves it
            for i, r in enumerate(recs):
                pred[i, : len(r["outputs"][m])] = torch.tensor([index[t] for t in r["outputs"][m]])
            assert acc == pytest.approx(token_accuracy(pred, target))


def test_examples_are_seeded_and_independent_of_the_models(models):
    task = SequenceTask("copy", VOCAB, 2, 5)
    a, b = make(models, task, seed=3), make({"only": models["fixed"]}, task, seed=3)
    assert [r["source"] for r in a.examples] == [r["source"] for r in b.examples]
    assert [r["source"] for r in make(models, task, seed=4).examples] != [r["source"] for r in a.examples]


def test_building_leaves_the_models_mode_alone(models):
    model = models["fixed"]
    model.train()
    make({"m": model}, SequenceTask("copy", VOCAB, 2, 3), lengths=[2, 3])
    assert model.training
    model.eval()


def test_selection_traits_are_validated(models):
    w = make(models, SequenceTask("copy", VOCAB, 2, 5))
    assert w.length == 5 and w.example == 0  # the longest trained length by default
    w.length, w.example = 7, 2
    assert w.selected()["length"] == 7 and w.selected() is w.records(7)[2]
    with pytest.raises(traitlets.TraitError, match=re.escape("length must be in [2, 7]")):
        w.length = 8
    with pytest.raises(traitlets.TraitError, match=re.escape("example must be an index in [0, 3)")):
        w.example = 3


def test_mimebundle_has_widget_view_and_self_contained_html(models):
    w = make(models, SequenceTask("copy", VOCAB, 2, 5), length=3)
    data, _ = w._repr_mimebundle_()
    assert data["text/plain"] == (
        "BottleneckExplorer('fixed', 'attention'; copy task, lengths 2-7, 3 examples each; "
        "showing length 3, output 1)"
    )
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == w.model_id
    html = data["text/html"]
    payload = page_payload(html)
    assert payload["state"]["examples"] == w.examples and payload["state"]["length"] == 3
    assert "export default" in payload["esm"] and "function slider" in payload["esm"]
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")


def test_its_words_come_from_the_message_tables_in_both_languages(models):
    w = make(models, SequenceTask("copy", VOCAB, 2, 5), lengths=[2, 3])
    assert w.language == "en" and w.messages == messages_for("bottleneck")
    assert w.messages["zh"]["bottleneck.helpWeights"] == ZH["bottleneck.helpWeights"]
    html = w.static_html()
    assert "瓶颈探索器需要 JavaScript" in html and "Interactive bottleneck explorer" in html  # noscript
    assert page_payload(html)["state"]["messages"] == w.messages
    w.language = "zh"
    assert repr(w).startswith(
        "BottleneckExplorer('fixed', 'attention'; copy task"
    )  # repr stays English (nbval)


def test_token_names_that_look_like_markup_are_escaped(models):
    names = default_token_names(VOCAB)
    names[3] = EVIL
    w = make(models, SequenceTask("copy", VOCAB, 2, 3), lengths=[2, 3], token_names=names)
    assert any(EVIL in r["source"] for r in w.examples)
    html = w._repr_mimebundle_()[0]["text/html"]
    assert "<img" not in html and html.count("</script>") == 2
    payload = json.loads(re.search(r'id="[^"]+-data">(.*?)</script>', html, re.S).group(1))
    assert payload["state"]["examples"] == w.examples  # the text survives intact


def test_repr_and_state_are_deterministic(models):
    task = SequenceTask("copy", VOCAB, 2, 5)
    a, b = make(models, task), make(models, task)
    assert repr(a) == repr(b) and a.static_state() == b.static_state()


@pytest.mark.parametrize(
    "change, error, message",
    [
        (dict(models=[1, 2]), TypeError, "dict {name: model}"),
        (dict(models={}), ValueError, "1 to 4 models"),
        (dict(models={"x": "not a model"}), TypeError, "Seq2Seq model"),
        (dict(models={"": None}), TypeError, "non-empty strings"),
        (dict(task="copy"), TypeError, "SequenceTask"),
        (dict(task=SequenceTask("copy", 40, 2, 5)), ValueError, "too small for the task's 40 tokens"),
        (dict(lengths=[2, 4]), ValueError, "consecutive"),
        (dict(lengths=[]), ValueError, "empty"),
        (dict(lengths=[0, 1]), ValueError, "each length must be >= 1"),
        (dict(lengths="234"), TypeError, "range or a list"),
        (dict(examples_per_length=0), ValueError, "examples_per_length must be in [1, 20]"),
        (dict(examples_per_length=2.0), TypeError, "examples_per_length must be an int"),
        (dict(token_names=["a"] * VOCAB), ValueError, "distinct"),
        (dict(token_names=["a", "b"]), ValueError, f"{VOCAB} non-empty strings"),
        (dict(token_names="abc"), TypeError, "list of strings"),
        (dict(length=9), ValueError, "length must be in [2, 7]"),
        (dict(seed=-1), ValueError, "seed must be >= 0"),
        (dict(output=8), ValueError, "output must be in [0, 7]"),
        (dict(output=-1), ValueError, "output must be in [0, 7]"),
    ],
)
def test_bad_constructor_arguments(models, change, error, message):
    kwargs = {"models": models, "task": SequenceTask("copy", VOCAB, 2, 5), "lengths": range(2, 8), **change}
    with pytest.raises(error, match=re.escape(message)):
        BottleneckExplorer(**kwargs)


def test_models_with_other_special_ids_are_refused():
    config = Seq2SeqConfig(VOCAB, VOCAB, embed=4, hidden=4, attention_hidden=4, eos_id=3)
    with pytest.raises(ValueError, match="special ids"):
        BottleneckExplorer({"m": FixedContextSeq2Seq(config)}, SequenceTask("copy", VOCAB, 2, 3))


def test_correct_marks_missing_tokens_wrong():
    assert BottleneckExplorer.correct(["3", "EOS"], ["3", "4", "EOS"]) == [True, False, False]
    assert np.mean(BottleneckExplorer.correct(["3", "4", "EOS"], ["3", "4", "EOS"])) == 1.0
