"""Encoder-decoder models (BART, Marian, T5; tiny random configs built offline): the
encoder's, the decoder's and the cross-attention, each equal to eager attention, cross-
attention rectangular (rows: target tokens, columns: source tokens) in every view that can
draw it, and one-line errors for what cannot be drawn or run."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import numpy as np
import pytest
from models import require

from svgattn import Diagram
from svgattn.errors import SpecError

SOURCE = "the cat sat on the mat because it was tired"
TARGET = "le chat est assis sur le tapis"


@pytest.fixture(scope="module")
def tiny():
    require("torch", "transformers")
    import tiny_models

    return tiny_models.folder


def _eager(folder, source: str, target: str):
    """The model's three attentions by eager attention: ``{role: [layers, heads, q, k]}``,
    with the decoder's input ids."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSeq2SeqLM.from_pretrained(folder, attn_implementation="eager").eval()
    encoded = tokenizer(source, return_tensors="pt")
    labels = tokenizer(text_target=target, return_tensors="pt")["input_ids"]
    decoder = model.prepare_decoder_input_ids_from_labels(labels=labels)
    with torch.no_grad():
        out = model(**encoded, decoder_input_ids=decoder, output_attentions=True)
    return {"encoder": np.stack([a[0].numpy() for a in out.encoder_attentions]),
            "decoder": np.stack([a[0].numpy() for a in out.decoder_attentions]),
            "cross": np.stack([a[0].numpy() for a in out.cross_attentions])}, \
        tokenizer.convert_ids_to_tokens(encoded["input_ids"][0]), \
        tokenizer.convert_ids_to_tokens(decoder[0])


@pytest.mark.parametrize("kind", ["bart", "marian", "t5"])
def test_each_attention_of_an_encoder_decoder_equals_eager_attention(tiny, kind):
    from svgattn.sources.local_model import run_model
    from svgattn.sources.run_options import ModelRun

    folder = tiny(kind)
    want, source, target = _eager(folder, SOURCE, TARGET)
    rows = {"encoder": source, "decoder": target, "cross": target}
    columns = {"encoder": source, "decoder": target, "cross": source}
    for role in ("encoder", "decoder", "cross"):
        att = run_model(str(folder), SOURCE, quiet=True,
                        run=ModelRun(target=TARGET, attention=role))
        assert list(att.query_tokens) == rows[role], role
        assert list(att.key_tokens) == columns[role], role
        assert att.shape == want[role].shape, role
        np.testing.assert_allclose(np.asarray(att.weights), want[role], rtol=1e-5, atol=1e-6,
                                   err_msg=f"{kind} {role}")
    # the default: cross-attention with a target, the encoder's with a source alone
    assert run_model(str(folder), SOURCE, quiet=True,
                     run=ModelRun(target=TARGET)).shape == want["cross"].shape
    alone = run_model(str(folder), SOURCE, quiet=True)
    np.testing.assert_allclose(np.asarray(alone.weights), want["encoder"], rtol=1e-5,
                               atol=1e-6)


def _csv(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "svgattn", *args], capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)


def test_cross_attention_is_rectangular_in_the_matrix_and_its_numbers(tiny, tmp_path):
    """``--attention cross`` from the CLI: the matrix's CSV has a row per target token and
    a column per source token, holding the mean of the last layer's heads (eager)."""
    folder = tiny("bart")
    want, source, target = _eager(folder, SOURCE, TARGET)
    out = tmp_path / "cross.csv"
    result = _cli("model", str(folder), "--text", SOURCE, "--target", TARGET, "--attention",
                  "cross", "--view", "matrix", "-o", str(out))
    assert result.returncode == 0, result.stderr
    table = _csv(out)
    assert table[0][1:] == source
    assert [r[0] for r in table[1:]] == target
    cells = np.array([[float(v) for v in r[1:]] for r in table[1:]])
    np.testing.assert_allclose(cells, want["cross"][-1].mean(0), rtol=1e-5, atol=1e-6)
    svg = tmp_path / "cross.svg"
    assert _cli("model", str(folder), "--text", SOURCE, "--target", TARGET, "--view", "matrix",
                "-o", str(svg)).returncode == 0
    from conftest import by_id, parse

    ids = by_id(parse(svg.read_text(encoding="utf-8")))
    assert sum(1 for k in ids if k.startswith("matrix-row-")) == len(target)
    assert sum(1 for k in ids if k.startswith("matrix-col-")) == len(source)


@pytest.mark.parametrize("view", ["flow", "lines", "text", "grid", "neuron"])
def test_every_view_that_can_draw_cross_attention_draws_its_numbers(tiny, view):
    """Each view's CSV of cross-attention (T5, the default with a target) holds target
    tokens as queries, source tokens as keys, and eager attention's numbers."""
    folder = tiny("t5")
    want, source, target = _eager(folder, SOURCE, TARGET)
    cross = want["cross"]
    d = Diagram.from_model(str(folder), SOURCE, view=view, target=TARGET)
    assert list(d.data.query_tokens) == target and list(d.data.key_tokens) == source
    text = d.to_csv().decode("utf-8")
    table = list(csv.DictReader(io.StringIO(text)))
    assert table
    if view == "flow":  # a matrix: the mean of the last layer's heads
        header, *rows = csv.reader(io.StringIO(text))
        assert header[1:] == source and [r[0] for r in rows] == target
        got = np.array([[float(v) for v in r[1:]] for r in rows])
        np.testing.assert_allclose(got, cross[-1].mean(0), rtol=1e-5, atol=1e-6)
        return
    if view == "text":  # what each source token receives, averaged over the target
        assert [r["token"] for r in table] == source
        value = next(k for k in table[0] if k.startswith("value"))
        np.testing.assert_allclose([float(r[value]) for r in table],
                                   cross[-1].mean(0).mean(0), rtol=1e-5, atol=1e-6)
        return
    weight = {"lines": "weight", "grid": "weight", "neuron": "attention"}[view]
    for r in table:
        label = f"{r['layer']} {r['head']}" if "layer" in r else next(iter(r.values()))
        layer, head = (int(x[1:]) for x in label.split()[:2])
        q, k = int(r["query"]), int(r["key"])
        assert r["query_token"] == target[q] and r["key_token"] == source[k]
        assert float(r[weight]) == pytest.approx(float(cross[layer, head, q, k]), rel=1e-5,
                                                 abs=1e-6)


def test_what_cannot_be_drawn_or_run_is_a_one_line_error(tiny, tmp_path):
    bart, gpt2 = str(tiny("bart")), str(tiny("gpt2"))
    out = tmp_path / "f.svg"
    cases = [  # the command line: exit 2, one line, no file
        (["model", bart, "--text", SOURCE, "--target", TARGET, "--view", "heads"],
         "attention: the heads view needs self-attention, and this run draws cross"),
        (["model", bart, "--text", SOURCE, "--attention", "sideways"],
         "invalid choice: 'sideways'"),
    ]
    for args, message in cases:
        result = _cli(*args, "-o", str(out))
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert message in result.stderr.strip().splitlines()[-1], (args, result.stderr)
        assert not out.exists()
    for model, options, message in (  # the API: the same errors
            (bart, {"attention": "decoder"}, "decoder attention reads a target; give --target"),
            (gpt2, {"attention": "cross"}, "has self-attention only: drop --attention"),
            (bart, {"target": TARGET, "generate": 3}, "a target text or --generate N, not both")):
        with pytest.raises(SpecError, match=message):
            Diagram.from_model(model, SOURCE, **options)


def test_a_generated_target_is_the_decoder_s_rows_and_is_marked(tiny):
    """``--generate N`` on an encoder-decoder: the decoder's start token and N generated
    tokens are the rows of cross-attention (equal to a forward pass over them), the
    generated ones marked from the second row."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from svgattn.sources.local_model import run_model
    from svgattn.sources.run_options import ModelRun

    folder = tiny("marian")
    att = run_model(str(folder), SOURCE, quiet=True, run=ModelRun(generate=5))
    assert att.generated == 1
    assert 2 <= att.shape[2] <= 6  # the start token, then up to 5 (fewer if it ends)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSeq2SeqLM.from_pretrained(folder, attn_implementation="eager").eval()
    decoder = torch.tensor([tokenizer.convert_tokens_to_ids(list(att.query_tokens))])
    with torch.no_grad():
        out = model(**tokenizer(SOURCE, return_tensors="pt"), decoder_input_ids=decoder,
                    output_attentions=True)
    want = np.stack([a[0].numpy() for a in out.cross_attentions])
    np.testing.assert_allclose(np.asarray(att.weights), want, rtol=1e-5, atol=1e-6)
    assert any(n.startswith(f"Generated {att.shape[2] - 1} tokens (greedy) after the "
                            "decoder's start token") for n in att.notes)


def test_a_model_type_svgattn_cannot_run_is_a_one_line_error(tiny, tmp_path):
    import tiny_models

    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "no-such-architecture"}')
    for name in ("tokenizer.json", "tokenizer_config.json", "model.safetensors"):
        (folder / name).write_bytes((tiny_models.folder("bart") / name).read_bytes())
    result = _cli("model", str(folder), "--text", SOURCE, "-o", str(tmp_path / "f.svg"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no-such-architecture" in result.stderr.strip().splitlines()[-1]
    with pytest.raises(SpecError):
        Diagram.from_model(str(folder), SOURCE)


def test_the_caption_says_which_attention_and_what_cannot_be_shown(tiny, tmp_path):
    """The provenance line names the attention drawn; T5's relative position bias is not
    a q x k product, so its neuron view is refused in one line naming why; a target on a
    model that reads one text is refused, not ignored."""
    bart, t5, gpt2 = str(tiny("bart")), str(tiny("t5")), str(tiny("gpt2"))
    captions = {
        ("cross", TARGET): "cross-attention: rows the decoder's tokens, columns the source's",
        ("decoder", TARGET): "the decoder's self-attention (target x target)",
        ("encoder", None): "the encoder's self-attention (source x source)"}
    for (role, target), words in captions.items():
        d = Diagram.from_model(bart, SOURCE, view="matrix", attention=role, target=target)
        assert any(words in n for n in d.data.notes), (role, d.data.notes)
    for role in ("encoder", "decoder"):
        with pytest.raises(SpecError, match="T5's relative attention bias"):
            Diagram.from_model(t5, SOURCE, view="neuron", attention=role, target=TARGET)
    Diagram.from_model(bart, SOURCE, view="neuron", attention="decoder", target=TARGET)
    result = _cli("model", gpt2, "--text", SOURCE, "--target", TARGET, "-o",
                  str(tmp_path / "f.svg"))
    assert result.returncode == 2 and not (tmp_path / "f.svg").exists()
    assert "target: a target is an encoder-decoder's decoder text" in \
        result.stderr.strip().splitlines()[-1]


def test_cross_attention_is_refused_before_the_model_runs_where_it_cannot_be_drawn(tiny,
                                                                                   tmp_path):
    """The heads view (View.square) and rollout need self-attention: refused at the
    model's loading, so no stderr line says the model ran."""
    bart = str(tiny("bart"))
    for extra, what in ((["--view", "heads"], "the heads view"),
                        (["--view", "matrix", "--combine", "rollout"], "rollout")):
        result = _cli("model", bart, "--text", SOURCE, "--target", TARGET, *extra, "-o",
                      str(tmp_path / "f.svg"))
        assert result.returncode == 2, result.stderr
        assert "running the model" not in result.stderr
        assert f"attention: {what} needs self-attention" in \
            result.stderr.strip().splitlines()[-1]
    d = Diagram.from_model(bart, SOURCE, view="heads", target=TARGET, attention="decoder")
    assert d.data.query_tokens == d.data.key_tokens
