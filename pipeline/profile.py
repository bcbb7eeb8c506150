"""A unit's profile (contract section 10): its config folder read with line numbers, every mistake found at once,
the folder chosen once and remembered, and the fingerprint that ties a `scores.json` to the profile it came from.

API
---
``read_located(path) -> Located``  a YAML file with the line of every key and item (``Located.line(*path)``) and
    the places YAML read as a float (``4.10`` -> 4.1), for messages naming file and line.
``Problems``  the collector ``load_config`` fills: ``add(doc, path, message)``; ``raise_if_any()`` raises one
    ``ConfigError`` listing every problem (``.problems`` keeps them one per line for ``check``).
``check_keys(doc, schema, problems)``  unknown keys, each with the likely intended one (difflib).
``resolve_config_dir(explicit=None) -> Path | None``  ``--config`` (a folder or a profile name), else
    ``$WENMING_CONFIG`` (``make … UNIT=``), else the remembered choice (``.wenming-profile`` in the project
    folder), else None (the bundled config/).
``remember_profile(folder, where=None)`` / ``forget_profile()``  write or remove the remembered choice (the
    工作台's 设置 page and ``make use UNIT=…``, through ``python -m pipeline.use_profile NAME|default``).
``available_profiles() -> [(unit, folder)]``  config/, profiles/* and examples/* (the 设置 page's choices).
``fingerprint(config_dir, catalog_file, negative_list=None) -> str``  SHA-256 over the profile files' bytes.
``profile_record(config) -> dict``  the ``config`` entry of ``scores.json``.
``ensure_same_profile(scores, config, what)``  raises ``ProfileMismatch`` (one Chinese line) when ``scores``
    were made with another profile; ``notify``, ``export`` and the 工作台 call it before acting.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import ConfigError

PROJECT_DIR = Path(__file__).resolve().parent.parent
BUNDLED_DIR = PROJECT_DIR / "config"
PROFILE_FILE = ".wenming-profile"   # one line: the config folder to use (relative to the file's folder)
PROFILE_HOME = PROJECT_DIR          # where the remembered choice is written (tests point it elsewhere)
PROFILE_ENV = "WENMING_CONFIG"      # the same choice for one shell (make passes UNIT=/CONFIG= through it)
PROFILE_SEARCH = ("profiles", "examples")  # where a bare profile name (UNIT=county_hospital) is looked for

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ProfileMismatch(ConfigError):
    """Scores made with another profile than the one in use."""


# ------------------------------------------------------------------ YAML with lines

@dataclass
class Located:
    """A YAML document and where each of its keys and items stands in the file."""

    file: str                                   # the name shown in messages (catalog.yaml)
    data: Any
    lines: dict[tuple, int] = field(default_factory=dict)   # path -> 1-based line
    floats: dict[tuple, str] = field(default_factory=dict)  # path -> the text YAML read as a float

    def line(self, *path: Any) -> int | None:
        """The line of the deepest known prefix of path."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get(())

    def where(self, *path: Any) -> str:
        line = self.line(*path)
        return f"{self.file} 第{line}行" if line else self.file


def read_located(path: Path, shown: str | None = None) -> Located:
    """Read a YAML file keeping the line of every node; ConfigError (file and line) when it cannot be read."""
    shown = shown or path.name
    if not path.is_file():
        raise ConfigError(f"配置文件不存在：{path}")
    try:
        text = path.read_text(encoding="utf-8")
        loader = _LOADER(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        where = getattr(exc, "problem_mark", None)
        line = f"第{where.line + 1}行" if where is not None else ""
        raise ConfigError(f"配置文件 {shown} {line}格式有误，无法读取（常见原因：冒号后缺空格、引号不成对、缩进不齐）："
                          f"{exc.__class__.__name__}") from exc
    doc = Located(shown, data)
    if node is not None:
        _walk(node, data, (), doc)
    return doc


def _walk(node, data, path: tuple, doc: Located) -> None:
    doc.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode) and isinstance(data, dict):
        by_text = {str(k): k for k in data}
        for knode, vnode in node.value:
            key = by_text.get(str(getattr(knode, "value", "")))
            if key is None:
                continue
            sub = path + (str(key),)
            _walk(vnode, data[key], sub, doc)
            doc.lines[sub] = knode.start_mark.line + 1  # the key's own line, not its value's
    elif isinstance(node, yaml.SequenceNode) and isinstance(data, list):
        for i, (child, value) in enumerate(zip(node.value, data)):
            _walk(child, value, path + (i,), doc)
    elif isinstance(node, yaml.ScalarNode) and node.tag.endswith(":float") and not node.style:
        doc.floats[path] = str(node.value)


# ------------------------------------------------------------------ problems, all at once

class Problems:
    """Every mistake of a profile, each naming file and line; raised together."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, doc: Located | str, path: tuple | int | None, message: str) -> None:
        if isinstance(doc, Located):
            where = doc.where(*path) if isinstance(path, tuple) else doc.file
        else:
            where = f"{doc} 第{path}行" if isinstance(path, int) else doc
        line = f"{where}：{message}"
        if line not in self.lines:
            self.lines.append(line)

    def __bool__(self) -> bool:
        return bool(self.lines)

    def raise_if_any(self) -> None:
        if self.lines:
            raise ConfigProblems(self.lines)


class ConfigProblems(ConfigError):
    """Several mistakes in a profile: str() is one line naming all of them; .problems one per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        text = problems[0] if len(problems) == 1 else \
            f"配置有 {len(problems)} 处错误：" + "；".join(problems)
        super().__init__(text)


# ------------------------------------------------------------------ known keys

LEAF = None
#: what each config file may contain: {key: sub-schema}; a sub-schema is LEAF (any value, not looked into),
#: a dict (a mapping with these keys), [dict] (a list of such mappings), or ("map", dict) (free keys, each
#: a mapping with these keys).
_RULES = {"min_photos": LEAF, "captions": LEAF, "number_types": LEAF, "within_year": LEAF}
#: other names a catalog may give a further metric's roster column and denominator (contract section 4)
COLUMN_KEYS = ("column", "roster_column", "header", "roster_header", "栏目", "表头")
DENOMINATOR_KEYS = ("denominator", "over", "base", "分母")
METRIC_SCHEMA = {"label": LEAF, "short": LEAF, "threshold": LEAF, "op": LEAF, "problem_title": LEAF, "number": LEAF,
                 **{k: LEAF for k in COLUMN_KEYS + DENOMINATOR_KEYS}}
STANDARD_SCHEMA = {"code": LEAF, "title": LEAF, "short": LEAF, "responsible": LEAF, "metrics": LEAF,
                   "min_evidence": LEAF, "evidence": LEAF, "improvement": LEAF, "evidence_rules": _RULES,
                   "number": LEAF}
CATALOG_SCHEMA: dict = {
    "id": LEAF, "name": LEAF, "all_departments_words": LEAF, "title_updates": LEAF,
    "metrics": ("map", METRIC_SCHEMA),
    **{k: ("map", METRIC_SCHEMA) for k in ("further_metrics", "custom_metrics", "extra_metrics")},  # the same
    "indicators": [{"name": LEAF, "task": LEAF, "code": LEAF, "number": LEAF,
                    "items": [{"name": LEAF, "direction_title": LEAF, "code": LEAF, "number": LEAF,
                               "standards": [STANDARD_SCHEMA]}]}],
    "evidence_rules": {"enabled": LEAF, "affects_status": LEAF, "numbering": {"indicator": LEAF, "item": LEAF,
                                                                             "standard": LEAF}, **_RULES},
}
UNIT_SCHEMA: dict = {
    "unit": LEAF, "short_name": LEAF, "year": LEAF, "catalog": LEAF, "negative_list": LEAF,
    "template_version": LEAF, "coordinator": LEAF, "deadline": LEAF, "resubmission_deadline": LEAF,
    "coordinator_email": LEAF, "coordinator_contact": LEAF, "report_date": LEAF, "report_attachment": LEAF,
    "report_title_lines": LEAF, "leadership_phrase": LEAF, "guidance_phrase": LEAF, "negative_list_title": LEAF,
    "departments": [{"name": LEAF, "aliases": LEAF, "email": LEAF}],
    "basis": LEAF, "guiding_thought": LEAF, "party_meetings_per_year": LEAF, "plan_signature": LEAF,
    "plan_date": LEAF, "plan_title_lines": LEAF,
    "leadership_group": {"name": LEAF, "leader": LEAF, "leader_post": LEAF, "deputies": LEAF, "members": LEAF,
                         "office": LEAF},
    "stages": [{"period": LEAF, "task": LEAF}],
    "general_directions": [{"title": LEAF, "first": LEAF, "text": LEAF}],
    "mail": {"sender": LEAF, "smtp_host": LEAF, "smtp_port": LEAF, "smtp_security": LEAF, "smtp_user": LEAF,
             "smtp_password_env": LEAF, "imap_password_env": LEAF, "imap_host": LEAF, "imap_port": LEAF,
             "imap_user": LEAF, "imap_folder": LEAF, "max_file_mb": LEAF, "max_message_mb": LEAF,
             "timeout_seconds": LEAF, "connection_deadline_seconds": LEAF, "lock_wait_seconds": LEAF},
    "negative_list_department": LEAF,
    "workbench": {"max_upload_mb": LEAF, "max_upload_files": LEAF, "max_request_mb": LEAF},
    "reminders": [{"stage": LEAF, "days_before": LEAF, "days_after": LEAF, "daily": LEAF, "to": LEAF}],
    "filing": {"level": LEAF, "limit": LEAF}, "unit_words": LEAF,
}
_COMMENTED_KEY = re.compile(r"^#?\s{0,1}([a-z][a-z0-9_]*):", re.M)


def _bundled_top_keys(name: str) -> set[str]:
    """Top-level keys the bundled file names, written or commented out (so a key added there is known)."""
    path = BUNDLED_DIR / name
    try:
        return set(_COMMENTED_KEY.findall(path.read_text(encoding="utf-8")))
    except OSError:
        return set()


def _bundled_nested(name: str) -> dict[str, set[str]]:
    """Keys the bundled file writes inside each top-level mapping (mail, workbench …): known there too."""
    try:
        data = yaml.load((BUNDLED_DIR / name).read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    out: dict[str, set[str]] = {}
    for k, v in data.items():
        if isinstance(v, dict):
            out[str(k)] = {str(x) for x in v}
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):  # a list of entries: their keys
            out[str(k)] = {str(x) for entry in v for x in entry}
    return out


def unit_schema() -> dict:
    schema = {**{k: LEAF for k in _bundled_top_keys("unit.yaml")}, **UNIT_SCHEMA}
    for key, names in _bundled_nested("unit.yaml").items():  # a key added to the bundled file is known
        if isinstance(schema.get(key), dict):
            schema[key] = {**{n: LEAF for n in names}, **schema[key]}
        elif isinstance(schema.get(key), list) and isinstance(schema[key][0], dict):
            schema[key] = [{**{n: LEAF for n in names}, **schema[key][0]}]
    return schema


def catalog_schema() -> dict:
    return {**{k: LEAF for k in _bundled_top_keys("catalog.yaml")}, **CATALOG_SCHEMA}


def suggest(key: str, known) -> str:
    """ '，是不是 deputies？' for a near miss, else the list of what is allowed."""
    known = sorted(str(k) for k in known)
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    if close:
        return f"是不是 {close[0]}？"
    return f"可用的有 {'、'.join(known)}" if len(known) <= 12 else "请对照项目自带的配置文件核对拼写"


def check_keys(doc: Located, schema: Any, problems: Problems, data: Any = None, path: tuple = ()) -> None:
    """Unknown keys anywhere the schema knows the shape, each with its line and the likely intended key."""
    data = doc.data if not path and data is None else data
    if schema is LEAF or data is None:
        return
    if isinstance(schema, list):
        if isinstance(data, list):
            for i, item in enumerate(data):
                check_keys(doc, schema[0], problems, item, path + (i,))
        return
    if isinstance(schema, tuple):  # ("map", sub)
        if isinstance(data, dict):
            for k, v in data.items():
                check_keys(doc, schema[1], problems, v, path + (str(k),))
        return
    if not isinstance(data, dict):
        return
    for k, v in data.items():
        if str(k) not in schema:
            problems.add(doc, path + (str(k),), f"不认识的设置“{k}”，{suggest(str(k), schema)}")
            continue
        check_keys(doc, schema[str(k)], problems, v, path + (str(k),))


# ------------------------------------------------------------------ the profile chosen once

def _profile_file_dirs() -> list[Path]:
    return [PROFILE_HOME]


def _named(value: str, base: Path) -> Path | None:
    """A config folder from a path or a profile name (profiles/NAME, examples/NAME)."""
    raw = Path(value.strip()).expanduser()
    candidates = [raw if raw.is_absolute() else base / raw]
    if not raw.is_absolute() and len(raw.parts) == 1:
        candidates += [PROJECT_DIR / d / raw for d in PROFILE_SEARCH]
    for c in candidates:
        if (c / "unit.yaml").is_file():
            return c
    return None


def resolve_config_dir(explicit: str | Path | None = None) -> Path | None:
    """The config folder to use: --config (a folder or a profile name), $WENMING_CONFIG, then the remembered
    choice in .wenming-profile; None means the bundled config/. A choice that names nothing is an error."""
    if explicit:
        found = _named(str(explicit), Path.cwd())
        if found is None and Path(explicit).is_dir():
            return Path(explicit)  # load_config names what is missing in it
        if found is None:
            raise ConfigError(f"配置文件夹“{explicit}”不存在（也不是 profiles/ 或 examples/ 下的单位配置名）")
        return found
    env = os.environ.get(PROFILE_ENV, "").strip()
    if env:
        found = _named(env, Path.cwd())
        if found is None:
            raise ConfigError(f"环境变量 {PROFILE_ENV} 指定的配置文件夹“{env}”不存在或其中没有 unit.yaml")
        return found
    for base in _profile_file_dirs():
        marker = base / PROFILE_FILE
        if marker.is_file():
            value = next((ln.strip() for ln in marker.read_text(encoding="utf-8").splitlines()
                          if ln.strip() and not ln.lstrip().startswith("#")), "")
            if not value:
                continue
            found = _named(value, base)
            if found is None:
                raise ConfigError(f"{marker} 记住的配置文件夹“{value}”不存在或其中没有 unit.yaml；"
                                  f"请在工作台“设置”中重新选择，或删除该文件改用默认配置")
            return found
    return None


def remember_profile(folder: str | Path, where: str | Path | None = None) -> Path:
    """Remember the config folder for make, the launchers and the 工作台 (in .wenming-profile)."""
    base = Path(where) if where else PROFILE_HOME
    target = _named(str(folder), Path.cwd())
    if target is None:
        raise ConfigError(f"配置文件夹“{folder}”不存在或其中没有 unit.yaml")
    try:
        shown = os.path.relpath(target.resolve(), base.resolve())
    except ValueError:  # another drive on Windows
        shown = str(target.resolve())
    marker = base / PROFILE_FILE
    marker.write_text("# 本机使用的单位配置文件夹（make、启动器和工作台都读取此文件）\n"
                      f"{Path(shown).as_posix()}\n", encoding="utf-8")
    return marker


# ------------------------------------------------------------------ fingerprint and the scores' profile

def profile_files(config_dir: Path, catalog_file: Path, negative_list: Path | None = None) -> list[Path]:
    files = [config_dir / "unit.yaml", catalog_file]
    if negative_list is not None:
        files.append(negative_list)
    wording = config_dir / "wording.yaml"
    if wording.is_file():
        files.append(wording)
    templates = config_dir / "templates"
    if templates.is_dir():
        files += sorted(p for p in templates.iterdir() if p.is_file() and not p.name.startswith((".", "~$")))
    return [f for f in dict.fromkeys(files) if f.is_file()]


def fingerprint(files: list[Path], base: Path) -> str:
    h = hashlib.sha256()
    for f in files:
        try:
            rel = f.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            rel = f.name
        h.update(rel.encode("utf-8") + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def profile_record(config) -> dict:
    """scores.json's `config`: unit, catalog id, the profile's fingerprint (every file's bytes) and the catalog's
    own (what a yearly edit of unit.yaml, such as an e-mail address, does not change), and the departments."""
    record = {"unit": config.unit, "catalog": config.catalog_id, "fingerprint": config.fingerprint,
              "catalog_fingerprint": config.catalog_fingerprint, "departments": config.department_names}
    own = {m.key: m.short_label for m in config.custom_metrics}
    if own:  # the catalog's own metrics by name, for readers without this catalog (the roll-up)
        record["metric_labels"] = own
    return record


def ensure_same_profile(scores: dict, config, what: str) -> None:
    """One Chinese line, raised, when scores.json was made with another profile than `config`."""
    rec = scores.get("config") if isinstance(scores, dict) else None
    if not isinstance(rec, dict):
        unit = scores.get("unit") if isinstance(scores, dict) else None
        if unit and unit != config.unit:
            raise ProfileMismatch(f"scores.json 是“{unit}”的结果，当前配置是“{config.unit}”，不能{what}；"
                                  f"请用 --config 指定该单位的配置，或用当前配置重新运行 report")
        return  # scores of an older version without the record: the unit name is all there is to compare
    if rec.get("unit") != config.unit or rec.get("catalog") != config.catalog_id:
        raise ProfileMismatch(f"scores.json 是用“{rec.get('unit')}”（测评细则 {rec.get('catalog')}）的配置生成的，"
                              f"当前配置是“{config.unit}”（测评细则 {config.catalog_id}），不能{what}；"
                              f"请用 --config 指定生成时的配置，或用当前配置重新运行 report")
    changed = (rec.get("catalog_fingerprint") and rec.get("catalog_fingerprint") != config.catalog_fingerprint) \
        or (rec.get("departments") is not None and list(rec.get("departments")) != config.department_names)
    if changed:
        raise ProfileMismatch(f"scores.json 生成后，配置文件夹 {config.dir} 中的测评标准目录或部门名单已改动（配置指纹 "
                              f"{rec.get('fingerprint')} → {config.fingerprint}），不能{what}；请先用现在的配置重新运行 report")


def available_profiles() -> list[tuple[str, Path]]:
    """(unit name, folder) of every profile on this machine: config/, then profiles/* and examples/* with a
    unit.yaml (the choices of the 工作台's 设置 page)."""
    folders = [BUNDLED_DIR] + sorted(p for d in PROFILE_SEARCH for p in (PROJECT_DIR / d).glob("*")
                                     if (p / "unit.yaml").is_file())
    try:
        remembered = resolve_config_dir()
    except ConfigError:
        remembered = None
    if remembered is not None and remembered.resolve() not in {f.resolve() for f in folders}:
        folders.append(remembered)
    out = []
    for folder in folders:
        try:
            data = yaml.load((folder / "unit.yaml").read_text(encoding="utf-8"), Loader=_LOADER)
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            continue
        if isinstance(data, dict) and data.get("unit") and data.get("departments"):
            out.append((str(data["unit"]), folder))
    return out


def forget_profile(where: str | Path | None = None) -> bool:
    """Back to the bundled config/: the remembered choice is removed. True when there was one."""
    marker = (Path(where) if where else PROFILE_HOME) / PROFILE_FILE
    if marker.is_file():
        marker.unlink()
        return True
    return False
