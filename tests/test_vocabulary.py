"""One vocabulary: the statuses of a standard and the states of a department are declared once
(pipeline/vocabulary.py) and spelled one way everywhere."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

from webkit import make_folders

from pipeline import vocabulary as v
from pipeline.catalog import load_config
from pipeline.mail import reminders

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline"
WORDS = {*v.STATUSES, *v.STATE_LABELS.values(), "无法读取", "报送文件无法读取"}


def test_statuses_and_states_are_declared_only_in_the_vocabulary():
    """No other module assigns a status or a state label to a name (a constant, a tuple of them, a dict)."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "vocabulary.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                words = [c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant) and c.value in WORDS]
                if words:
                    found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {words}")
    assert found == []


def test_file_unreadable_is_spelled_one_way():
    assert v.STATE_LABELS[v.UNREADABLE] == "文件无法读取"
    for old in ("无法读取", "报送文件无法读取", "文件无法读取", "unreadable"):
        assert v.state_code(old) == v.UNREADABLE
    texts = [p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py") if p.name != "vocabulary.py"]
    assert not any("报送文件无法读取" in t for t in texts)


def test_a_department_whose_file_is_unreadable_gets_no_reminder(tmp_path):
    """It gets its 请重新报送 notice instead (scores.json's state is the code `unreadable`)."""
    _, out, config = make_folders(tmp_path)
    cfg = load_config(config)
    depts = [{"name": d, "submitted": False, "state": "missing"} for d in cfg.department_names]
    depts[0]["state"], depts[1]["state"] = v.UNREADABLE, v.EMPTY
    scores = {"unit": cfg.unit, "year": cfg.year, "departments": depts}
    due = reminders.due(cfg, scores, out, cfg.settings["deadline"] + dt.timedelta(days=3))
    assert due and {d.department for d in due} == set(cfg.department_names[2:])
