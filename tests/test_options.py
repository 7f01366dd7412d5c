"""Options opt in: a view reads the common options it declares and its own; any other one is
a one-line error naming the view (built-ins and plug-ins alike); defaults are applied once,
where options are parsed; figure-level settings are validated fields; a figure imports the
one view it draws."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import SEED

from svgattn import Diagram, SpecError
from svgattn.fields import At
from svgattn.options import BY_NAME, COMMON, FRAME
from svgattn.settings import SETTINGS, schema, settings
from svgattn.sources import from_array
from svgattn.views.registry import builtin_names, get

VALUES = {"layer": 0, "layers": "all", "heads": "0", "combine": "max", "minus_layer": 0,
          "minus_head": 0, "window": "0:3", "pool": "2", "hide_special": True,
          "merge_words": True, "leading_space": "mark", "keep_sinks": True, "links": "top:2",
          "groups": True, "colormap": "viridis", "scale": "row", "vmin": 0.0, "vmax": 0.5,
          "norm": "log", "gamma": 0.7, "title": "T", "show_title": True, "caption": "none"}
TOKENS = ["a", "b", "c", "d", "e", "f"]


def _att():
    rng = np.random.default_rng(0)
    w = rng.random((2, 2, 6, 6))
    return from_array(w / w.sum(axis=-1, keepdims=True), TOKENS)


def test_every_common_option_has_a_test_value():
    assert set(VALUES) == set(BY_NAME)


@pytest.mark.parametrize("view", builtin_names())
def test_a_common_option_a_view_does_not_read_is_refused_naming_it(view):
    unread = [o.name for o in COMMON if o.name not in get(view).reads and o.name not in FRAME]
    assert unread or view == "flow"
    for name in unread:
        with pytest.raises(SpecError) as err:
            Diagram.from_attention(_att(), view=view, **{name: VALUES[name]})
        message = str(err.value)
        assert f"{name}: the {view} view does not read it" in message, message
        assert "\n" not in message


@pytest.mark.parametrize("view", builtin_names())
def test_every_option_a_view_reads_arrives_with_its_default(view):
    rng = np.random.default_rng(1)  # q and k for the neuron view (it reads them)
    q, k = rng.normal(size=(2, 2, 6, 4)), rng.normal(size=(2, 2, 6, 4))
    s = np.einsum("lhqd,lhkd->lhqk", q, k) / 2
    w = np.exp(s - s.max(-1, keepdims=True))
    grid = {"grid": [2, 2], "patch_start": 2} if get(view).pictures else {}  # over a photo
    att = from_array(w / w.sum(-1, keepdims=True), TOKENS, queries=q, keys=k, **grid)
    d = Diagram.from_attention(att, view=view)
    expected = {name: field.default for name, field in schema(get(view)).items()}
    assert d.options == expected


def test_the_framework_options_are_every_views():
    for view in builtin_names():
        assert set(FRAME) <= set(schema(get(view)))


def test_settings_are_fields_validated_once():
    assert {f.name for f in SETTINGS} == {"view", "theme", "width", "text", "dpi", "prefix",
                                          "format"}
    ok = settings({"width": "icml", "dpi": 600, "view": "matrix"}, At(""))
    assert ok.width == pytest.approx(3.25 * 72) and ok.dpi == 600 and ok.view == "matrix"
    for given, fragment in (({"width": "0.1in"}, "between 0.5in and 100in"),
                            ({"dpi": 5}, "dpi"), ({"view": "pie"}, "is not a view"),
                            ({"prefix": "9x"}, "prefix"), ({"text": "bold"}, "text"),
                            ({"format": "gif"}, "format")):
        with pytest.raises(SpecError, match=fragment):
            settings(given, At(""))


def test_a_figure_imports_the_one_view_it_draws(tmp_path):
    """Drawing a matrix imports the matrix view only, and never reads installed packages'
    entry points (a built-in view needs no plug-in lookup)."""
    code = f"""
import json, sys
from svgattn.cli import main
from svgattn.views import registry
status = main(["render", {str(SEED)!r}, "--view", "matrix", "-o", {str(tmp_path / 'm.svg')!r}])
views = sorted(m for m in sys.modules if m.startswith("svgattn.views.")
               and m not in ("svgattn.views.base", "svgattn.views.registry"))
print(json.dumps({{"status": status, "views": views,
                  "scanned": registry._entry_points.cache_info().currsize}}))
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got == {"status": 0, "views": ["svgattn.views.matrix"], "scanned": 0}


def test_help_still_lists_every_views_options():
    run = subprocess.run([sys.executable, "-m", "svgattn", "render", "--help"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0
    for flag in ("--matrices", "--threshold", "--thumbnail", "--score", "--dims", "--focus"):
        assert flag in run.stdout, flag
