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


def test_ordinary_text_test_on_joined_values_agrees_with_the_test_of_each_value():
    import unicodedata

    from pipeline.intake.validate import _ordinary

    rng = random.Random(5)
    parts = ["a", "x", "_", "#", " ", "\u3000", "\x07", "\u0301", "é", "e\u0301", "Ａ", "张", "\n", "_x", "0"]
    for _ in range(4000):
        values = ["".join(rng.choice(parts) for _ in range(rng.randrange(4))) for _ in range(rng.randrange(1, 5))]
        plain = all(v.isprintable() and "_x" not in v and "#" not in v for v in values)
        ids = plain and all(" " not in v and unicodedata.is_normalized("NFKC", v) for v in values)
        assert _ordinary(values) == plain, values
        assert _ordinary(values, ids=True) == ids, values


@pytest.mark.parametrize("func", ["clean_text", "id_text"])
def test_a_column_parsed_without_factorizing_gives_what_factorizing_gives(func):
    import numpy as np

    from pipeline.intake import validate

    parse = getattr(validate, func)
    rng = random.Random(func)
    plain_seen = 0
    for _ in range(300):
        values = [rng.choice(["张三", " 李四 ", "A01", "", "abc", "Ａ１", "x y", "a_x000B_b", "#REF!"])
                  for _ in range(rng.randrange(1, 30))]
        plain = validate.Parsed(np.array(values, dtype=object), parse)
        mixed = validate.Parsed(np.array(values + [None], dtype=object), parse)  # None: factorized
        assert not mixed.plain
        plain_seen += plain.plain
        n = len(values)
        assert list(plain.values) == list(mixed.values[:n])
        assert [type(v) for v in plain.values] == [type(v) for v in mixed.values[:n]]
        for objects in ((None,), (validate.FORMULA_ERROR,), (validate.INVALID,)):
            assert list(plain.is_(*objects)) == list(mixed.is_(*objects)[:n])
        assert list(plain.blank()) == list(mixed.blank()[:n])
    assert plain_seen > 5


def test_the_validated_frame_is_the_frame_pandas_builds_from_the_columns():
    import numpy as np
    import pandas as pd

    from pipeline.intake.validate import _frame

    rng = random.Random(11)
    pool = [None, "", "是", 1.0, 2, True, dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3), float("nan"), ("1.1.1",)]
    for _ in range(200):
        n = rng.randrange(0, 6)
        columns = ["file", "row", *(f"c{i}" for i in range(rng.randrange(1, 5)))]
        out = {"row": np.arange(n)}
        for c in columns[2:] + ["file"]:
            kinds = rng.sample(pool, rng.randrange(1, 3))
            column = np.empty(n, dtype=object)
            column[:] = [rng.choice(kinds) for _ in range(n)]
            out[c] = column
        built, expected = _frame(out, columns, n), pd.DataFrame({c: out[c] for c in columns})
        pd.testing.assert_frame_equal(built, expected)
        for c in columns:
            assert [type(v) for v in built[c]] == [type(v) for v in expected[c]]
