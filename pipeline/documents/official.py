"""规范表述: outdated official formulations replaced by their current form in every output, and the year's themes.

The table is data: ``config/official_wording.yaml`` (a unit's own file is layered over the bundled one):
``过时表述`` lists ``原文`` → ``现行`` (``现行`` may name a fact of the year, ``{大会精神}``, with ``无年度时`` for a
year the table does not cover); ``年度`` holds per year the 大会精神, 首要政治任务, 学习教育 and 年度特点 the
自查报告, 实施方案 and 半年总结 use, with ``上半年`` overrides for the 半年总结 and ``待核实`` for what is not yet
known (``check`` warns, as it does for a report year with no entry).

API
---
``load_official(config_dir=None) -> Official``       read both files (cached per path and mtime).
``activate(config, year, half=False)``               the table of this run: every later ``apply`` in this
    thread (the text filter, the Word and Excel writers) replaces for that year.
``apply(text) -> str``                               the active replacements (year-independent ones when no run
    is active). Called by ``documents.text`` (``clean``/``finish``), ``ooxml.text`` and the workbook writers.
``apply_all(texts) -> list[str]``                     ``apply`` on each of many texts (the ledger's columns).
``Official.theme(year, half=False) -> dict``          the year's facts (nearest earlier year when missing).
``year_warnings(config) -> list[str]``               what ``check`` says about the report year.
"""

from __future__ import annotations

import contextvars
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.catalog import DEFAULT_CONFIG_DIR
from pipeline.errors import ConfigError

OFFICIAL_FILE = "official_wording.yaml"
FACTS = ("大会精神", "首要政治任务", "学习教育", "年度特点")
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True)
class Rule:
    old: str
    new: str
    fallback: str | None   # 无年度时
    line: int


@dataclass
class Official:
    rules: list[Rule]
    years: dict[int, dict[str, Any]]
    files: list[str]
    _compiled: dict = field(default_factory=dict)

    def entry(self, year: int | None) -> tuple[int | None, dict[str, Any]]:
        """(the year whose entry serves, the entry): the year's own, else the nearest earlier, else later one."""
        if not self.years or year is None:
            return None, {}
        if year in self.years:
            return year, self.years[year]
        earlier = [y for y in self.years if y < year]
        chosen = max(earlier) if earlier else min(self.years)
        return chosen, self.years[chosen]

    def theme(self, year: int | None, half: bool = False) -> dict[str, str]:
        """The year's facts (大会精神, 首要政治任务, 学习教育, 年度特点, 待核实) as non-empty strings."""
        served, raw = self.entry(year)
        facts = {k: str(raw.get(k) or "").strip() for k in (*FACTS, "待核实")}
        if half and isinstance(raw.get("上半年"), dict):
            facts.update({k: str(v).strip() for k, v in raw["上半年"].items() if v is not None})
        if served != year:   # another year's themes stand in: 年度特点 and 学习教育 are that year's own
            facts["年度特点"] = ""
            facts["学习教育"] = ""
        return {k: v for k, v in facts.items() if v}

    def replacer(self, year: int | None, half: bool = False, extra: tuple[tuple[str, str], ...] = ()):
        """(compiled pattern, old -> new) for a year; `extra`: the catalog's own title_updates, applied too."""
        key = (year, half, extra)
        if key not in self._compiled:
            facts = self.theme(year, half)
            pairs: list[tuple[str, str]] = []
            rules = sorted([*self.rules, *(Rule(old, new, None, 0) for old, new in extra)], key=lambda r: -len(r.old))
            for r in rules:
                names = _PLACEHOLDER.findall(r.new)
                if all(facts.get(n) for n in names):
                    new = _PLACEHOLDER.sub(lambda m: facts[m.group(1)], r.new)
                elif r.fallback is not None:
                    new = r.fallback
                else:
                    continue
                if new != r.old:
                    pairs.append((r.old, new))
            mapping = dict(pairs)
            pattern = re.compile("|".join(re.escape(old) for old, _ in pairs)) if pairs else None
            self._compiled[key] = (pattern, mapping)
        return self._compiled[key]


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第{mark.line + 1}行" if mark is not None else ""
        raise ConfigError(f"{path.name} {where}格式有误（常见原因：冒号后缺空格、引号不成对、缩进不齐）") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path.name} 格式有误：应有“过时表述”和“年度”两部分")
    return data


def _lines(path: Path) -> dict[str, int]:
    """原文 -> its line number in the file (for messages)."""
    out = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = re.match(r"\s*-\s*原文:\s*(.+?)\s*$", line)
        if m:
            out.setdefault(m.group(1).strip("\"'"), n)
    return out


def _rules(path: Path, data: dict) -> list[Rule]:
    lines = _lines(path)
    rules = []
    for raw in data.get("过时表述") or []:
        if not isinstance(raw, dict) or not raw.get("原文") or raw.get("现行") is None:
            raise ConfigError(f"{path.name} 的“过时表述”中“{raw}”格式有误：每条应写“原文: …”和“现行: …”")
        unknown = set(raw) - {"原文", "现行", "无年度时"}
        if unknown:
            raise ConfigError(f"{path.name} 第{lines.get(str(raw['原文']), 0)}行：“过时表述”的一条有未知的栏目"
                              f"“{'、'.join(map(str, unknown))}”：只能有“原文”“现行”“无年度时”")
        new = str(raw["现行"])
        bad = [n for n in _PLACEHOLDER.findall(new) if n not in FACTS]
        if bad:
            raise ConfigError(f"{path.name} 第{lines.get(str(raw['原文']), 0)}行：“现行”中的占位符“{{{bad[0]}}}”"
                              f"不存在，可用：{'、'.join('{' + f + '}' for f in FACTS)}")
        fallback = raw.get("无年度时")
        rules.append(Rule(str(raw["原文"]), new, None if fallback is None else str(fallback),
                          lines.get(str(raw["原文"]), 0)))
    return rules


def _years(path: Path, data: dict) -> dict[int, dict]:
    years = {}
    for y, entry in (data.get("年度") or {}).items():
        try:
            year = int(y)
        except (TypeError, ValueError):
            raise ConfigError(f"{path.name} 的“年度”中“{y}”不是年份（应写成 2026:）") from None
        if not isinstance(entry, dict):
            raise ConfigError(f"{path.name} 的“年度”中 {year} 年应写成“大会精神: …”等各项")
        unknown = set(entry) - {*FACTS, "上半年", "待核实"}
        if unknown:
            raise ConfigError(f"{path.name} 的“年度”中 {year} 年有未知的一项“{'、'.join(map(str, unknown))}”："
                              f"可用 {'、'.join(FACTS)}、上半年、待核实")
        years[year] = entry
    return years


_CACHE: dict[tuple, Official] = {}


def load_official(config_dir: str | Path | None = None) -> Official:
    """The unit's table (if its config folder has one) over the bundled one."""
    paths = list(dict.fromkeys(p.resolve() for p in (
        Path(config_dir) / OFFICIAL_FILE if config_dir else DEFAULT_CONFIG_DIR / OFFICIAL_FILE,
        DEFAULT_CONFIG_DIR / OFFICIAL_FILE)))
    paths = [p for p in paths if p.is_file()]
    key = tuple((str(p), p.stat().st_mtime) for p in paths)
    if key not in _CACHE:
        rules: list[Rule] = []
        years: dict[int, dict] = {}
        for p in paths:   # the unit's file first: its rules before the bundled ones, its years over them
            data = _read(p)
            rules += _rules(p, data)
            for y, entry in _years(p, data).items():
                years.setdefault(y, entry)
        rules.sort(key=lambda r: -len(r.old))   # the longest formulation first, whatever the file order
        _CACHE[key] = Official(rules, years, [f"{p.parent.name}/{p.name}" for p in paths])
    return _CACHE[key]


_ACTIVE: contextvars.ContextVar[tuple[Official, int | None, bool, tuple] | None] = \
    contextvars.ContextVar("official_wording", default=None)


def activate(config, year: int | None, half: bool = False, catalog_updates: bool = True) -> None:
    """Replace for this config and year in every later `apply` of this run (this thread); the catalog's own
    outdated phrases (catalog.yaml title_updates) are replaced everywhere too, except where the catalog's labels
    must stay as they are (the templates' dropdowns: `catalog_updates=False`)."""
    updates = (getattr(config, "title_updates", None) or {}) if catalog_updates else {}
    extra = tuple((str(k), str(v)) for k, v in updates.items() if k)
    _ACTIVE.set((load_official(getattr(config, "dir", None)), year, half, extra))


def active_year() -> int | None:
    state = _ACTIVE.get()
    return state[1] if state else None


def _replacer():
    state = _ACTIVE.get()
    if state is None:
        official, year, half, extra = load_official(None), None, False, ()
    else:
        official, year, half, extra = state
    return official.replacer(year, half, extra)


# (an active state, its pattern, its replacement function): one tuple, replaced whole, so that a thread with
# another run's state never takes this one's pattern
_RESOLVED: tuple = (object(), None, None)


def apply(text: str) -> str:
    """The text with every outdated formulation replaced by its current form (for the active run's year)."""
    global _RESOLVED
    if not text or not isinstance(text, str):
        return text
    state = _ACTIVE.get()
    resolved = _RESOLVED
    if state is not None and state is resolved[0]:   # the run's table, resolved once (called per cell)
        pattern, repl = resolved[1], resolved[2]
    else:
        pattern, mapping = _replacer()
        repl = (lambda m: mapping[m.group(0)]) if pattern is not None else None
        if state is not None:
            _RESOLVED = (state, pattern, repl)
    if pattern is None:
        return text
    return pattern.sub(repl, text)


_BATCH = 2048


def apply_all(texts: list[str]) -> list[str]:
    """`apply` on each of many texts (the distinct texts of a ledger column: 400,000 names and numbers at city
    scale). Each batch is searched once as a whole: a formulation in any text is in the joined text, so a batch
    with no match is left as it is; a batch with one (even a match across two texts) is replaced text by text."""
    pattern, _ = _replacer()
    if pattern is None:
        return list(texts)
    out: list[str] = []
    for at in range(0, len(texts), _BATCH):
        batch = texts[at:at + _BATCH]
        try:
            found = pattern.search("".join(batch)) is not None
        except TypeError:  # not all text: each as `apply` takes it
            found = True
        out += [apply(t) for t in batch] if found else batch
    return out


def year_warnings(config, year: int | None = None) -> list[str]:
    """What `check` says about the report year's entry: missing, or with something still to be verified."""
    year = year or config.year
    official = load_official(config.dir)
    served, raw = official.entry(year)
    file = official.files[0] if official.files else OFFICIAL_FILE
    out = []
    if served != year:
        out.append(f"{file} 中没有 {year} 年的年度主题（大会精神、首要政治任务、学习教育）：文书暂按"
                   f"{served}年的提法书写，请补充 {year} 年一项" if served else
                   f"{file} 中没有年度主题：请补充 {year} 年一项")
    elif raw.get("待核实"):
        out.append(f"{file} 中 {year} 年尚待核实：{raw['待核实']}")
    for r in official.rules:
        if r.fallback is None and any(not official.theme(year).get(n) for n in _PLACEHOLDER.findall(r.new)):
            out.append(f"{file} 第{r.line}行：{year} 年缺少“{r.new}”所需的内容，“{r.old}”将保留原样")
    return out
