"""pipeline.jsontext.dumps writes exactly what json.dumps(data, ensure_ascii=False, indent=2) writes."""

import enum
import json

import numpy as np
import pytest

from pipeline.jsontext import dumps


class Level(enum.IntEnum):
    ERROR = 2


class Name(str):
    pass


CASES = [
    {}, [], (), "", 0, -1.5, None, True, False, 10**30, float("nan"), float("inf"), -float("inf"), 1e-300, 0.1,
    {"a": [], "b": {}, "c": [[], [{}]], "d": ()},
    {"文字": "引号\"、反斜杠\\、换行\n、制表\t、控制\x01、😀、\u2028", "名": Name("子类")},
    {1: "int key", 2.5: "float key", None: "none key", float("nan"): "nan key"}, {True: "真", False: "假"},
    {"numbers": [np.float64(0.25), np.int64(3).item(), Level.ERROR, 1.0, -0.0, 123456789.123456789]},
    [{"level": "error", "row": 3, "value": None, "ok": False, "ratio": 0.9}, [1, [2, [3, {"x": [4]}]]]],
]


@pytest.mark.parametrize("data", CASES)
def test_the_same_text_as_json(data):
    assert dumps(data) == json.dumps(data, ensure_ascii=False, indent=2)


def test_what_json_refuses_is_refused_as_json_does():
    for bad in ({"x": object()}, {(1, 2): "tuple key"}, [np.int64(3)]):
        with pytest.raises(TypeError) as ours:
            dumps(bad)
        with pytest.raises(TypeError) as theirs:
            json.dumps(bad, ensure_ascii=False, indent=2)
        assert str(ours.value) == str(theirs.value)
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps(cycle)


def test_a_scores_json_of_a_messy_run_is_the_same_text(tmp_path):
    from tests.builders import report
    from tests.messy import MESSY_YEAR, messy_inbox
    out = tmp_path / "out"
    report(messy_inbox(tmp_path / "inbox"), out, "--year", str(MESSY_YEAR))
    data = json.loads((out / "scores.json").read_text(encoding="utf-8"))
    assert (out / "scores.json").read_text(encoding="utf-8") == json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    assert dumps(data) == json.dumps(data, ensure_ascii=False, indent=2)
