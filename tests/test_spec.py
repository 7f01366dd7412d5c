from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import seed_weights

from svgattn import Diagram, Head, SpecError
from svgattn.scene import Rect, Text


def write_json(tmp_path, spec, name="spec.json"):
    path = tmp_path / name
    path.write_text(json.dumps(spec))
    return path


def seed_spec(**changes):
    spec = {
        "tokens": ["It", "I", "is", "am", "the"],
        "weights": seed_weights().tolist(),
        "heads": [{"name": "Head 0", "tokens": ["It", "I"]},
                  {"name": "Head 1", "tokens": ["is", "am", "the"]},
                  {"name": "Head 2", "tokens": ["is", "am", "the"]}],
    }
    spec.update(changes)
    return spec


def test_seed_spec_reproduces_the_seed(seed_path):
    d = Diagram.from_spec(seed_path)
    assert d.data.query_labels == ("It", "I", "is", "am", "the")
    np.testing.assert_array_equal(d.data.matrix, seed_weights())
    assert [h.name for h in d.data.heads] == ["Head 0", "Head 1", "Head 2"]
    assert [h.links for h in d.data.heads] == [(0, 1), (2, 3, 4), (2, 3, 4)]
    assert [r.role for r in d.scene().find(Rect) if r.role == "swatch"] == ["swatch"] * 2
    assert d.theme.name == "seed"


def test_toml_and_json_give_the_same_figure(tmp_path, seed_path):
    toml = Diagram.from_spec(seed_path).to_svg()
    spec = seed_spec(title="Attention heads and the tokens they attend to", theme="seed")
    assert Diagram.from_spec(write_json(tmp_path, spec)).to_svg() == toml


def test_api_and_spec_agree(seed_path):
    heads = [Head("Head 0", tokens=["It", "I"]), Head("Head 1", tokens=[2, 3, 4]),
             Head("Head 2", tokens=["is", "am", "the"])]
    d = Diagram(["It", "I", "is", "am", "the"], seed_weights(), heads,
                title="Attention heads and the tokens they attend to", theme="seed")
    assert d.to_svg() == Diagram.from_spec(seed_path).to_svg()


def test_heads_with_their_own_weights_derive_links():
    own0 = np.zeros((5, 5))
    own0[:2, :2] = 1
    own1 = np.zeros((5, 5))
    own1[2:, 2:] = 1
    d = Diagram(["It", "I", "is", "am", "the"], seed_weights(),
                [Head("A", weights=own0), Head("B", weights=own1)])
    assert [h.links for h in d.data.heads] == [(0, 1), (2, 3, 4)]


def test_continuous_weights_are_not_binary():
    w = np.array([[0.7, 0.3], [0.2, 0.8]])
    d = Diagram(["a", "b"], w)
    scene = d.scene()
    assert not scene.find(Rect, "swatch") and scene.find(Rect, "colorbar")
    top = max(float(t.label.text) for t in scene.find(Text, "tick-label"))
    assert top <= 0.8


def test_cross_attention_takes_rectangular_weights():
    d = Diagram(query_tokens=["x", "y"], key_tokens=["a", "b", "c"],
                weights=np.full((2, 3), 1 / 3))
    assert d.data.matrix.shape == (2, 3)


@pytest.mark.parametrize("changes, fields", [
    ({"weights": [[1, 0], [0, 1]]}, ["weights", "2x2", "5 query and 5 key", "make the shape"]),
    ({"weights": seed_weights()[:, :, None].tolist()}, ["weights", "3 dimension"]),
    ({"tokens": []}, ["tokens", "is empty", "at least one token"]),
    ({"tokens": ["It", "I", "is", "am", 5]}, ["tokens[4]", "quote it"]),
    ({"heads": [{"name": "H"}, {"name": "H"}]}, ["heads[1].name", "unique"]),
    ({"heads": [{"name": "H", "tokens": ["it"]}]},
     ["heads[0].tokens[0]", "'it' is not one of the tokens", "did you mean 'It'"]),
    ({"heads": [{"name": "H", "tokens": [7]}]}, ["heads[0].tokens[0]", "out of range"]),
    ({"heads": [{"name": "H", "colour": "#fff"}]}, ["heads[0].colour", "did you mean 'color'"]),
    ({"heads": [{"name": "H", "color": "javascript:alert(1)"}]}, ["heads[0].color", "colour"]),
    ({"heads": [{"name": ""}]}, ["heads[0].name", "give each head a name"]),
    ({"tokenz": ["a"]}, ["tokenz", "did you mean 'tokens'"]),
    ({"width": "wide"}, ["width", "is neither a length nor a venue"]),
    ({"vmax": -1}, ["vmax", "positive"]),
])
def test_bad_specs_name_file_field_and_fix(tmp_path, changes, fields):
    path = write_json(tmp_path, seed_spec(**changes), "bad.json")
    with pytest.raises(SpecError) as err:
        Diagram.from_spec(path)
    message = str(err.value)
    assert message.startswith("bad.json: ") and "\n" not in message
    for field in fields:
        assert field in message


@pytest.mark.parametrize("value, shown", [(float("nan"), "nan"), (float("inf"), "inf"),
                                          (-0.5, "-0.5")])
def test_non_finite_and_negative_weights(tmp_path, value, shown):
    w = seed_weights()
    w[2, 3] = value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(seed_spec(weights=w.tolist())))  # json writes NaN/Infinity
    with pytest.raises(SpecError) as err:
        Diagram.from_spec(path)
    assert "weights[2][3]" in str(err.value) and shown in str(err.value)


def test_nan_in_toml(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('tokens = ["a", "b"]\nweights = [[1.0, nan], [0.0, 1.0]]\n')
    with pytest.raises(SpecError, match=r"bad.toml: weights\[0\]\[1\]: is nan"):
        Diagram.from_spec(path)


def test_syntax_errors_are_one_line(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('tokens = ["a", "b"\n')
    with pytest.raises(SpecError, match=r"broken\.toml: not valid TOML"):
        Diagram.from_spec(path)


def test_ambiguous_token_asks_for_an_index():
    with pytest.raises(SpecError, match="occurs 2 times"):
        Diagram(["the", "cat", "the"], np.eye(3), [Head("H", tokens=["the"])])


def test_api_errors_name_the_argument():
    with pytest.raises(SpecError, match=r"^Diagram: weights: is 2x3"):
        Diagram(["a", "b"], np.ones((2, 3)))


def test_torch_like_tensors_are_accepted():
    class FakeTensor:  # duck-typed like torch.Tensor: detach().cpu().numpy()
        def __init__(self, a):
            self.a = a

        def detach(self):
            return self

        def cpu(self):
            return self

        def numpy(self):
            return self.a

    d = Diagram(["a", "b"], FakeTensor(np.eye(2)))
    np.testing.assert_array_equal(d.data.matrix, np.eye(2))


@pytest.mark.parametrize("token", ["a\x1bb", "a\x00", "tab\there", "new\nline", "\ud800",
                                   " ", "", "\u200b"])
def test_a_head_names_any_token_by_its_raw_string(token):
    """Matching uses the raw strings; visible stand-ins are for display only."""
    d = Diagram([token, "x"], np.eye(2), [Head("H", tokens=[token])])
    assert d.data.heads[0].links == (0,)
    assert "\x1b" not in d.to_svg() and "\x00" not in d.to_svg()


def test_a_stand_in_is_not_a_token():
    with pytest.raises(SpecError, match="is not one of the tokens"):
        Diagram(["a\x1bb", "x"], np.eye(2), [Head("H", tokens=["a\u241bb"])])
