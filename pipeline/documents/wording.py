"""Sentence frames a coordinator edits: ``config/wording.yaml``, read, validated, chosen and filled here.

The file
--------
Top-level keys are documents (``自查报告``, ``实施方案``, ``内部提示`` …; any writer may append its own
section). Under a document, each key is a *frame*: either one sentence, or a list of *variants*::

    自查报告:
      项目成效:
        - 文本: "{示例活动}等活动{活动数}次、{人次}人次参加，制定{示例文件}等文件{文件数}份。"
        - 文本: "{示例活动}等活动{活动数}次。"
          条件: [多个活动]
        - "开展{示例活动}活动。"

A placeholder is a Chinese fact name in braces, ``{活动数}``; ``{{`` and ``}}`` are literal braces.
A variant may name ``条件`` (facts that must be true/non-empty) and ``除非`` (facts that must be
false/empty). The **first** variant whose conditions hold and whose every placeholder has a
non-empty value (not None, "", 0, False or an empty list) is used: variants are chosen by the
shape of the data, so order them from the richest to the plainest. A frame with no usable variant
gives "" (the writer leaves the sentence out) unless ``fill(..., required=True)``.

Lookup: the unit's own ``<config>/wording.yaml`` first, key by key, then the bundled file.

API
---
``load_wording(config_dir=None) -> Wording``    read and syntax-check both files (cached per path+mtime).
``Wording.fill(key, facts, required=False) -> str``  choose a variant and fill it; ``key`` is
    ``"文档.框架"``; ``facts`` maps every placeholder name the writer offers to its value (values
    may be None/0/""). Strings are passed through ``text.clean``; lists are joined with 、.
``Wording.text(key) -> str``                    a fixed phrase (a frame with no placeholders).
``Wording.items(key) -> list``                  a list-valued entry (e.g. configurable word lists).
``Wording.has(key) -> bool``
``WordingError``                                 a broken entry: one Chinese line naming the file,
    the key and the entry's text, and how to fix it. Raised on load (bad braces, bad shape) and on
    fill (a placeholder the writer does not offer, i.e. a typo: checked over *all* variants).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from pipeline.catalog import DEFAULT_CONFIG_DIR
from pipeline.documents.text import clean, finish
from pipeline.errors import PipelineError

__all__ = ["WordingError", "Wording", "Variant", "load_wording", "WORDING_FILE"]

WORDING_FILE = "wording.yaml"
_TEXT, _WHEN, _UNLESS = "文本", "条件", "除非"


class WordingError(PipelineError):
    """A wording entry that cannot be used: its file, key and text, and the fix, in one Chinese line."""


@dataclass(frozen=True)
class Variant:
    text: str
    names: tuple[str, ...]
    when: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()


def _short(text: str, n: int = 40) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= n else text[: n - 1] + "…"


def _parse(file: str, key: str, text: str) -> tuple[str, ...]:
    """The placeholder names of one variant; WordingError if its braces are broken."""
    names = []
    try:
        for _lit, name, spec, conv in string.Formatter().parse(text):
            if name is None:
                continue
            if not name or spec or conv or any(c in name for c in ".[]!:"):
                raise ValueError(name)
            names.append(name)
    except ValueError:
        raise WordingError(f"{file} 中“{key}”的文字“{_short(text)}”花括号不成对或占位符写法有误："
                           f"占位符应写成 {{活动数}} 这样的一对花括号，文字中的花括号请写成 {{{{ 和 }}}}") from None
    return tuple(names)


def _variants(file: str, key: str, raw: Any) -> list[Variant]:
    entries = raw if isinstance(raw, list) else [raw]
    out = []
    for e in entries:
        if isinstance(e, (str, int, float)) and not isinstance(e, bool):
            text, when, unless = str(e), (), ()
        elif isinstance(e, dict) and isinstance(e.get(_TEXT), (str, int, float)):
            text = str(e[_TEXT])
            when = tuple(str(x) for x in _as_list(e.get(_WHEN)))
            unless = tuple(str(x) for x in _as_list(e.get(_UNLESS)))
            unknown = set(e) - {_TEXT, _WHEN, _UNLESS}
            if unknown:
                raise WordingError(f"{file} 中“{key}”的一条写法有未知的栏目“{'、'.join(map(str, unknown))}”："
                                   f"每条写法只能有“文本”“条件”“除非”")
        else:
            raise WordingError(f"{file} 中“{key}”的一条写法“{_short(str(e))}”格式有误：应为一句文字，"
                               f"或写成“- 文本: ……”（可加“条件”“除非”）")
        out.append(Variant(text, _parse(file, key, text), when, unless))
    return out


def _as_list(v: Any) -> list:
    if v is None:
        return []
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _empty(v: Any) -> bool:
    return v is None or v is False or v == "" or (isinstance(v, (int, float)) and not isinstance(v, bool) and v == 0) \
        or (isinstance(v, (list, tuple, set, dict)) and not v)


def _show(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "、".join(clean(x) for x in v if not _empty(x))
    if isinstance(v, float):
        return f"{v:g}"
    return clean(v)


class Wording:
    """The frames of the unit's wording file over the bundled one."""

    def __init__(self, layers: list[tuple[str, dict]], unit_words: dict[str, str] | None = None):
        self._layers = layers  # [(file name, {"文档.框架": raw})], first wins
        self.unit_words = dict(unit_words or {})  # {党组织} {部门统称} …: offered to every entry (unit.yaml)
        self._cache: dict[str, tuple[str, Any]] = {}
        self._parsed: dict[str, list[Variant]] = {}
        self.offered: dict[str, set[str]] = {}  # key -> fact names a writer offered (used by `check`)

    def _raw(self, key: str) -> tuple[str, Any]:
        if key not in self._cache:
            for file, flat in self._layers:
                if key in flat:
                    self._cache[key] = (file, flat[key])
                    break
            else:
                files = "、".join(f for f, _ in self._layers) or WORDING_FILE
                raise WordingError(f"{files} 中缺少“{key}”一项：请从项目自带的 config/{WORDING_FILE} 中复制这一项")
        return self._cache[key]

    def keys(self, section: str) -> list[str]:
        """Every key of a document section, in the unit's file or the bundled one."""
        return list(dict.fromkeys(k for _, flat in self._layers for k in flat if k.startswith(section + ".")))

    def all_keys(self) -> set[str]:
        """Every key of every layer (``check`` compares a unit's own file with the bundled one)."""
        return {k for _, flat in self._layers for k in flat}

    def raw(self, key: str) -> Any:
        return self._raw(key)[1]

    def file_of(self, key: str) -> str:
        return self._raw(key)[0]

    def has(self, key: str) -> bool:
        return any(key in flat for _, flat in self._layers)

    def variants(self, key: str) -> list[Variant]:
        if key not in self._parsed:  # parsed once: a frame is filled per department at city scale
            file, raw = self._raw(key)
            self._parsed[key] = _variants(file, key, raw)
        return list(self._parsed[key])

    def fill(self, key: str, facts: Mapping[str, Any] | None = None, required: bool = False) -> str:
        """The first variant the facts can fill, filled; "" if none (WordingError when required)."""
        facts = {**self.unit_words, **(facts or {})}
        file, _ = self._raw(key)
        self.offered.setdefault(key, set()).update(facts)
        variants = self.variants(key)
        for v in variants:
            unknown = [n for n in (*v.names, *v.when, *v.unless) if n not in facts]
            if unknown:
                offered = "、".join(f"{{{n}}}" for n in facts) or "（无）"
                raise WordingError(f"{file} 中“{key}”的文字“{_short(v.text)}”用了不存在的占位符“{{{unknown[0]}}}”："
                                   f"请改为可用的占位符之一：{offered}")
        for v in variants:
            if any(_empty(facts[n]) for n in v.when) or any(not _empty(facts[n]) for n in v.unless):
                continue
            if any(_empty(facts[n]) for n in v.names):
                continue
            return finish(v.text.format_map({n: _show(facts[n]) for n in v.names}))
        if required:
            raise WordingError(f"{file} 中“{key}”没有一条写法适用于现有数据：请保留一条不带条件、不带占位符"
                               f"（或只用总有数值的占位符）的写法放在最后")
        return ""

    def text(self, key: str) -> str:
        return self.fill(key, {}, required=True)

    def items(self, key: str) -> list:
        file, raw = self._raw(key)
        if not isinstance(raw, list):
            raise WordingError(f"{file} 中“{key}”应为一组条目（每行以“- ”开头）")
        return raw


def _flatten_into(file: str, prefix: str, frames: dict, flat: dict) -> None:
    """Frames under a prefix; a mapping without 文本 is a group of named frames (key.sub)."""
    for name, raw in frames.items():
        key = f"{prefix}.{name}"
        if isinstance(raw, dict) and _TEXT not in raw:
            _flatten_into(file, key, raw, flat)
            continue
        for v in _as_list(raw):  # syntax-check every sentence now (word lists are strings too)
            if isinstance(v, str):
                _parse(file, key, v)
            else:
                _variants(file, key, [v])
        flat[key] = raw


def _flatten(file: str, data: Any) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise WordingError(f"{file} 格式有误：最外层应为“文档名:”分组（如“自查报告:”）")
    flat = {}
    for doc, frames in data.items():
        if not isinstance(frames, dict):
            raise WordingError(f"{file} 中“{doc}”下应为“名称: 文字”的各项")
        _flatten_into(file, str(doc), frames, flat)
    return flat


_LOADED: dict[tuple[str, float], dict] = {}


def _yaml(text: str) -> Any:
    """yaml.safe_load(text), parsed by libyaml when installed (the wording file: 0.03 s in Python, 0.003 s in
    C); a text libyaml refuses is parsed again in Python, so a mistake is reported as it always was. A text with
    a tab or a byte-order mark past its start goes to Python alone: libyaml reads some that PyYAML refuses."""
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is not None and "\t" not in text and text.find("\ufeff", 1) == -1:
        try:
            return yaml.load(text, Loader=loader)
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def _read(path: Path) -> dict[str, Any]:
    stamp = (str(path), path.stat().st_mtime)
    if stamp not in _LOADED:
        try:
            data = _yaml(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"第{mark.line + 1}行" if mark is not None else ""
            raise WordingError(f"{path.name} {where}格式有误（常见原因：冒号后缺空格、引号不成对、缩进不齐），"
                               f"请对照项目自带的 config/{WORDING_FILE} 修改") from None
        _LOADED[stamp] = _flatten(path.name, data)
    return _LOADED[stamp]


def load_wording(config_dir: str | Path | None = None) -> Wording:
    """The unit's wording file (if its config folder has one) over the bundled one."""
    layers: list[tuple[str, dict]] = []
    paths: Iterable[Path] = dict.fromkeys(p.resolve() for p in (
        Path(config_dir) / WORDING_FILE if config_dir else DEFAULT_CONFIG_DIR / WORDING_FILE,
        DEFAULT_CONFIG_DIR / WORDING_FILE))
    for p in paths:
        if p.is_file():
            layers.append((f"{p.parent.name}/{p.name}", _read(p)))
    words = unit_words(config_dir)
    key = (tuple((name, id(flat)) for name, flat in layers), tuple(sorted(words.items())))
    if key not in _WORDINGS:  # one object per file contents: `check` sees what every writer offered
        _WORDINGS[key] = Wording(layers, words)
    return _WORDINGS[key]


_UNIT_WORDS: dict[tuple[str, float], dict[str, str]] = {}


def unit_words(config_dir: str | Path | None = None) -> dict[str, str]:
    """The unit-kind words every wording entry may use ({党组织} {部门统称} {部门称谓} {创建称号} {单位建设}):
    unit.yaml's `unit_words` over Tianjin's defaults (catalog.UNIT_WORDS)."""
    from pipeline.catalog import UNIT_WORDS
    path = Path(config_dir) / "unit.yaml" if config_dir else DEFAULT_CONFIG_DIR / "unit.yaml"
    try:
        stamp = (str(path.resolve()), path.stat().st_mtime)
    except OSError:
        return dict(UNIT_WORDS)
    if stamp not in _UNIT_WORDS:
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            data = None  # load_config names the mistake
        own = data.get("unit_words") if isinstance(data, dict) else None
        own = own if isinstance(own, dict) else {}
        _UNIT_WORDS[stamp] = {**UNIT_WORDS, **{str(k): str(v) for k, v in own.items() if str(k) in UNIT_WORDS and v}}
    return dict(_UNIT_WORDS[stamp])


_WORDINGS: dict[tuple, Wording] = {}
