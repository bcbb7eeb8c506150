"""The reading path's shortcuts give exactly what the plain cell-by-cell code gives, on mangled sheets."""

import dataclasses
import datetime as dt
import math
import random
from pathlib import Path

import pytest

from pipeline.catalog import load_config
from pipeline.intake.ingest import FileRecord, _read_table
from pipeline.schema import sheet_for


class _Text(str):
    """Text of a str subclass: never what a reader gives, but the shortcuts must not be fooled by it."""


def _pool(spec) -> list:
    headers = [c.name for c in spec.columns]
    return ["", "", "", None, " ", "\u3000", "\t\n", float("nan"), 1.0, 0.0, 2.5, -3.0, 7, True, False,
            "是", "否", "张三", "A01", "3.2.2", "2024-05-01", "注：以上为示例", "填表人：李四", "合计", " 王五 ",
            dt.date(2024, 3, 5), dt.datetime(2024, 3, 5, 8, 30), dt.timedelta(hours=8), _Text("赵六"),
            _Text(" "), _Text(""), *headers, *headers]


def _grid(spec, rng: random.Random) -> tuple[list[list], list]:
    headers = [c.name for c in spec.columns]
    rng.shuffle(headers)
    pool = _pool(spec)
    width = len(headers) + rng.randrange(3)
    header = headers + [rng.choice(["", "备注", None])] * (width - len(headers))
    grid = [[rng.choice(["", "标题"])] + [""] * (width - 1) for _ in range(rng.randrange(3))] + [header]
    for _ in range(rng.randrange(1, 40)):
        shape = rng.random()
        if shape < 0.1:
            row = [""] * width
        elif shape < 0.15:
            row = list(header)
        elif shape < 0.25:
            row = [rng.choice(pool) for _ in range(rng.randrange(width))]  # narrower than the header
        elif shape < 0.45:
            row = [rng.choice(["", "", None, " "]) for _ in range(width)]
            row[rng.randrange(width)] = rng.choice(pool)
        elif shape < 0.7:  # a plain data row
            row = [rng.choice(["张三", "A01", 1.0, "是", "2024-05-01", "3.2.2"]) for _ in range(width)]
        else:
            row = [rng.choice(pool) for _ in range(width)]
        grid.append(row)
    merges = []
    if rng.random() < 0.2:
        r0 = rng.randrange(len(grid))
        merges.append((r0, rng.randrange(width), r0 + rng.randrange(4), width - 1))
    return grid, merges


def _same(a, b) -> bool:
    """Equal, NaN equal to NaN, and of the same types."""
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return type(a) is type(b) and a == b


def _read(grid, merges, spec, fast: bool):
    rec = FileRecord(path=Path("x.xlsx"), name="x.xlsx", mtime=0.0)
    raw = _read_table([list(row) for row in grid], spec, rec, "sheet", merges, fast=fast)
    shape = None if raw is None else (raw.kind, raw.name, raw.columns, raw.values, raw.numbers)
    return shape, [(i.code, i.row, i.column, i.message) for i in rec.issues]


@pytest.mark.parametrize("kind", ["roster", "activities", "documents", "negative", "highlights", "honours"])
def test_read_table_quick_row_test_keeps_what_the_cell_by_cell_test_keeps(kind):
    spec = sheet_for(load_config(), kind)
    rng = random.Random(kind)
    kept = 0
    for _ in range(1500):
        grid, merges = _grid(spec, rng)
        fast, slow = _read(grid, merges, spec, True), _read(grid, merges, spec, False)
        assert _same(fast[0], slow[0]), grid
        assert fast[1] == slow[1], grid
        kept += len(fast[0][4]) if fast[0] else 0
    assert kept > 1000  # the sheets were read, not refused


def test_department_lookup_by_substrings_names_what_testing_every_alias_names():
    from pipeline.catalog import Department
    from pipeline.intake.ingest import _department_in_text

    rng = random.Random(3)
    letters = "工会团委办公室妇联科协一二三ab 　（）()"
    names = sorted({"".join(rng.choice(letters) for _ in range(rng.randrange(1, 6))) for _ in range(120)})
    departments = [Department(name=n, aliases=tuple(rng.sample(names, rng.randrange(3)))) for n in names[:60]]
    config = dataclasses.replace(load_config(), departments=tuple(departments))
    for _ in range(3000):
        text = "".join(rng.choice(letters) for _ in range(rng.randrange(0, 16)))
        assert _department_in_text(config, text) == config.department_in_text(text), text
