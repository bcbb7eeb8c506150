"""The standards catalog and the unit configuration, loaded from YAML and validated."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from pipeline.addresses import AddressError, normal_address
from pipeline.errors import ConfigError
from pipeline.settings import UnitSettings

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"

#: The metrics whose numerator and denominator the contract defines (section 4).
METRIC_KEYS = (
    "participation_rate",
    "satisfaction_rate",
    "volunteer_registration_rate",
    "party_volunteer_registration_rate",
    "volunteer_service_rate",
    "legal_education_rate",
)

_OPS = {">": ">", "大于": ">", "高于": ">", ">=": ">=", "≥": ">=", "不低于": ">=", "大于等于": ">=", "以上": ">="}


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    threshold: float
    op: str  # ">" or ">="
    short: str = ""  # a short label for charts and narrow columns (catalog `short:`), e.g. 参与率

    @property
    def short_label(self) -> str:
        return self.short or self.label

    def passes(self, value: float) -> bool:
        return value > self.threshold if self.op == ">" else value >= self.threshold

    @property
    def requirement(self) -> str:
        """The threshold as the report phrases it, e.g. 大于90%."""
        word = "大于" if self.op == ">" else "不低于"
        return f"{word}{format_percent(self.threshold, decimals=None)}"


@dataclass(frozen=True)
class Standard:
    code: str
    indicator: str
    item: str
    title: str
    short: str
    responsible: tuple[str, ...]
    metrics: tuple[str, ...]
    min_evidence: int
    evidence: str
    improvement: str
    responsible_text: str = ""  # as the catalog words it: 调宣部、各部门

    @property
    def label(self) -> str:
        """What the dropdowns show: `3.2.2 常态化志愿服务和结对帮扶`."""
        return f"{self.code} {self.short}"


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    standards: tuple[Standard, ...]
    direction_title: str = ""  # verb-led 下一步 heading, e.g. 深化理想信念教育


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    items: tuple[Item, ...]
    task: str = ""  # the 实施方案's 主要任务 sentence for this 测评指标


@dataclass(frozen=True)
class Department:
    name: str
    aliases: tuple[str, ...] = ()
    email: str = ""


@dataclass
class Config:
    """Everything the pipeline knows about the unit and its catalog."""

    dir: Path
    unit: str
    short_name: str
    year: int
    template_version: str
    departments: tuple[Department, ...]
    catalog_id: str
    catalog_name: str
    metrics: dict[str, Metric]
    indicators: tuple[Indicator, ...]
    negative_title: str
    negative_items: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    evidence: "EvidenceSettings | None" = None  # 佐证材料 rules and archive numbering (catalog `evidence_rules`)
    unit_settings: "UnitSettings | None" = None  # unit.yaml's run settings, typed and checked at load (pipeline.settings)

    def evidence_rules(self, code: str) -> "EvidenceRules":
        """The evidence rules of one standard: the catalog defaults with its own overrides."""
        ev = self.evidence or EvidenceSettings()
        return ev.overrides.get(code, ev.defaults)

    title_updates: dict[str, str] = field(default_factory=dict)  # stale catalog wording -> current

    def current_wording(self, text: str) -> str:
        """Catalog text with the stale phrases of this catalog version replaced (title_updates)."""
        for old, new in self.title_updates.items():
            text = text.replace(old, new)
        return text

    @property
    def standards(self) -> dict[str, Standard]:
        return {s.code: s for ind in self.indicators for it in ind.items for s in it.standards}

    @property
    def department_names(self) -> list[str]:
        return [d.name for d in self.departments]

    def standards_for(self, department: str) -> list[Standard]:
        return [s for s in self.standards.values() if department in s.responsible]

    def resolve_department(self, name: Any) -> str | None:
        """The canonical department for a name or alias, or None."""
        key = normalize_name(name)
        if not key:
            return None
        return self.alias_map.get(key)

    def department_in_text(self, text: str) -> str | None:
        """The department whose name or alias is the longest one contained in text."""
        norm = normalize_name(text)
        best = None
        for alias, dept in self.alias_map.items():
            if alias and alias in norm and (best is None or len(alias) > len(best[0])):
                best = (alias, dept)
        return best[1] if best else None

    @cached_property
    def alias_map(self) -> dict[str, str]:
        """Normalised name or alias -> department (derived once)."""
        return alias_map(self.departments)

    def template_file(self, name: str) -> Path:
        """templates/NAME from the unit's own config folder if it has one, else the bundled one."""
        for base in (self.dir, DEFAULT_CONFIG_DIR):
            path = base / "templates" / name
            if path.is_file():
                return path
        raise ConfigError(f"找不到模板 templates/{name}")


@dataclass(frozen=True)
class EvidenceRules:
    """What the 佐证材料 of a standard must show (catalog `evidence_rules`, overridable per standard)."""

    min_photos: int = 2                    # photos per activity
    captions: bool = True                  # rows must carry 时间、地点、人物、主题 for the photo captions
    number_types: tuple[str, ...] = ("计划", "方案", "制度")  # document types that need a 文号
    within_year: bool = True               # documents and photos dated within the report year


@dataclass(frozen=True)
class EvidenceSettings:
    enabled: str = "auto"                  # auto (when the inbox holds evidence files) | on | off
    defaults: EvidenceRules = EvidenceRules()
    overrides: dict = field(default_factory=dict)   # code -> EvidenceRules
    numbering: tuple[str, str, str] = ("{I}", "{I}-{j}", "{I}-{j}-{k})")  # indicator, item, standard
    affects_status: bool = False           # true: rows failing the rules no longer count towards min_evidence


_RULE_KEYS = {"min_photos", "captions", "number_types", "within_year"}


def _evidence_rules(raw: Any, base: EvidenceRules, where: str) -> EvidenceRules:
    if raw is None:
        return base
    if not isinstance(raw, dict) or set(raw) - _RULE_KEYS - {"enabled", "numbering", "affects_status"}:
        raise ConfigError(f"{where}：evidence_rules 只能包含 {'、'.join(sorted(_RULE_KEYS))}")
    values = dict(base.__dict__)
    if "min_photos" in raw:
        n = raw["min_photos"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ConfigError(f"{where}：min_photos 应为不小于 0 的整数")
        values["min_photos"] = n
    for key in ("captions", "within_year"):
        if key in raw:
            if not isinstance(raw[key], bool):
                raise ConfigError(f"{where}：{key} 应为 true 或 false")
            values[key] = raw[key]
    if "number_types" in raw:
        values["number_types"] = tuple(str(t).strip() for t in _as_list(raw["number_types"]))
    return EvidenceRules(**values)


def _evidence_settings(cat: dict, cname: str) -> EvidenceSettings:
    raw = cat.get("evidence_rules") or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{cname}：evidence_rules 应为“键: 值”格式")
    enabled = raw.get("enabled", "auto")
    enabled = {True: "on", False: "off"}.get(enabled, str(enabled))
    if enabled not in ("auto", "on", "off"):
        raise ConfigError(f"{cname}：evidence_rules.enabled 应为 auto、true 或 false")
    defaults = _evidence_rules({k: v for k, v in raw.items() if k in _RULE_KEYS}, EvidenceRules(),
                               f"{cname} evidence_rules")
    numbering = raw.get("numbering") or {}
    if numbering == "catalog":   # the catalog's own numbers (its codes: 1.2.3, or what `code:` gives)
        numbering = {"indicator": "{code}", "item": "{code}", "standard": "{code}"}
    if not isinstance(numbering, dict):
        raise ConfigError(f"{cname}：evidence_rules.numbering 应为 catalog（按测评细则自己的编号），"
                          f"或分别写 indicator、item、standard 的格式")
    fmt = (str(numbering.get("indicator", "{I}")), str(numbering.get("item", "{I}-{j}")),
           str(numbering.get("standard", "{I}-{j}-{k})")))
    for f in fmt:
        try:
            f.format(I="Ⅰ", i=1, j=1, k=1, code="1.1.1")
        except (KeyError, IndexError, ValueError):
            raise ConfigError(f"{cname}：evidence_rules.numbering 中的“{f}”无效，可用 {{I}}（罗马数字）、{{i}}、{{j}}、"
                              f"{{k}}、{{code}}（测评细则自己的编号）") from None
    affects = raw.get("affects_status", False)
    if not isinstance(affects, bool):
        raise ConfigError(f"{cname}：evidence_rules.affects_status 应为 true 或 false")
    return EvidenceSettings(enabled, defaults, {}, fmt, affects)


def alias_map(departments) -> dict[str, str]:
    return {normalize_name(a): d.name for d in departments for a in (d.name, *d.aliases)}


def normalize_name(value: Any) -> str:
    """NFKC, no whitespace at all: how names and headers are compared."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return re.sub(r"\s+", "", text)


def format_percent(value: float, decimals: int | None = 1) -> str:
    """0.55 -> 55.0%; with decimals=None the shortest form (0.9 -> 90%)."""
    pct = value * 100
    if decimals is None:
        return f"{pct:.2f}".rstrip("0").rstrip(".") + "%"
    return f"{pct:.{decimals}f}%"


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it: 5x faster


def _read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise ConfigError(f"配置文件不存在：{path}")
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        where = getattr(exc, "problem_mark", None)
        line = f"第{where.line + 1}行" if where is not None else ""
        raise ConfigError(f"配置文件 {path.name} {line}格式有误，无法读取：{exc.__class__.__name__}") from exc


def _parse_threshold(raw: Any, where: str) -> float:
    if isinstance(raw, bool) or raw is None:
        raise ConfigError(f"{where}：阈值“{raw}”无效，应写成 90% 或 0.9")
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        text = normalize_name(raw)
        m = re.fullmatch(r"(\d+(?:\.\d+)?)(%?)", text)
        if not m:
            raise ConfigError(f"{where}：阈值“{raw}”无效，应写成 90% 或 0.9")
        value = float(m.group(1)) / (100 if m.group(2) else 1)
    if value > 1:
        value /= 100
    if not 0 <= value <= 1:
        raise ConfigError(f"{where}：阈值“{raw}”超出 0%–100% 的范围")
    return value


def _parse_op(raw: Any, where: str) -> str:
    op = _OPS.get(normalize_name(raw if raw is not None else ">"))
    if op is None:
        raise ConfigError(f"{where}：比较符“{raw}”无效，应为 >（大于）或 >=（不低于）")
    return op


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def load_config(config_dir: str | Path | None = None) -> Config:
    """Load and validate unit.yaml, its catalog and negative list from a folder."""
    cdir = Path(config_dir) if config_dir else DEFAULT_CONFIG_DIR
    if not cdir.is_dir():
        raise ConfigError(f"配置文件夹不存在：{cdir}")
    unit = _read_yaml(cdir / "unit.yaml")
    if not isinstance(unit, dict):
        raise ConfigError("unit.yaml 应为“键: 值”格式")
    for key in ("unit", "year", "departments"):
        if not unit.get(key):
            raise ConfigError(f"unit.yaml 缺少“{key}”")
    try:
        year = int(unit["year"])
    except (TypeError, ValueError):
        raise ConfigError(f"unit.yaml：年度“{unit['year']}”不是年份") from None

    departments = []
    seen: dict[str, str] = {}
    for i, d in enumerate(_as_list(unit["departments"]), 1):
        if isinstance(d, str):
            d = {"name": d}
        if not isinstance(d, dict) or not d.get("name"):
            raise ConfigError(f"unit.yaml：第{i}个部门缺少名称（name）")
        try:
            email = normal_address(str(d.get("email") or ""))
        except AddressError as exc:
            raise ConfigError(f"unit.yaml：{str(d['name']).strip()}的邮箱{exc}") from None
        dep = Department(str(d["name"]).strip(), tuple(str(a).strip() for a in _as_list(d.get("aliases"))),
                         email)
        for a in (dep.name, *dep.aliases):
            key = normalize_name(a)
            if key in seen and seen[key] != dep.name:
                raise ConfigError(f"unit.yaml：部门名称或别名“{a}”重复（{seen[key]}、{dep.name}）")
            seen[key] = dep.name
        departments.append(dep)
    mail = unit.get("mail")
    if isinstance(mail, dict) and mail.get("sender"):
        try:
            mail["sender"] = normal_address(str(mail["sender"]))
        except AddressError as exc:
            raise ConfigError(f"unit.yaml：mail.sender（发件邮箱）{exc}") from None

    catalog_file = cdir / str(unit.get("catalog") or "catalog.yaml")
    cat = _read_yaml(catalog_file)
    if not isinstance(cat, dict) or not cat.get("indicators"):
        raise ConfigError(f"{catalog_file.name}：缺少测评指标（indicators）")
    cname = catalog_file.name

    metrics: dict[str, Metric] = {}
    for key, m in (cat.get("metrics") or {}).items():
        where = f"{cname} 指标 {key}"
        if key not in METRIC_KEYS:
            raise ConfigError(f"{where}：未知的计算指标，可用的有 {', '.join(METRIC_KEYS)}")
        m = m or {}
        metrics[key] = Metric(key, str(m.get("label") or key), _parse_threshold(m.get("threshold"), where),
                              _parse_op(m.get("op"), where), str(m.get("short") or ""))

    all_words = {normalize_name(w) for w in _as_list(cat.get("all_departments_words") or ["各部门", "机关各部门"])}
    names = [d.name for d in departments]
    resolver = alias_map(departments)

    indicators = []
    codes: set[str] = set()
    for i, ind in enumerate(_as_list(cat["indicators"]), 1):
        if not isinstance(ind, dict) or not ind.get("name"):
            raise ConfigError(f"{cname}：第{i}个测评指标缺少名称")
        items = []
        for j, it in enumerate(_as_list(ind.get("items")), 1):
            if not isinstance(it, dict) or not it.get("name"):
                raise ConfigError(f"{cname}：测评项目 {i}.{j} 缺少名称")
            stds = []
            for k, s in enumerate(_as_list(it.get("standards")), 1):
                code = str(s.get("code") or f"{i}.{j}.{k}") if isinstance(s, dict) else f"{i}.{j}.{k}"
                where = f"{cname} 测评标准 {code}"
                if not isinstance(s, dict) or not s.get("title"):
                    raise ConfigError(f"{where}：缺少标准内容（title）")
                if code in codes:
                    raise ConfigError(f"{where}：编码重复")
                codes.add(code)
                resp: list[str] = []
                for r in _as_list(s.get("responsible")):
                    key = normalize_name(r)
                    targets = names if key in all_words else [resolver.get(key)]
                    if targets == [None]:
                        raise ConfigError(f"{where}：责任部门“{r}”不在 unit.yaml 的部门名单中（{'、'.join(names)}）")
                    resp.extend(t for t in targets if t not in resp)
                if not resp:
                    raise ConfigError(f"{where}：缺少责任部门（responsible）")
                mkeys = [str(x) for x in _as_list(s.get("metrics"))]
                for mk in mkeys:
                    if mk not in metrics:
                        raise ConfigError(f"{where}：引用了未定义的计算指标“{mk}”")
                try:
                    min_ev = int(s.get("min_evidence", 1))
                except (TypeError, ValueError):
                    raise ConfigError(f"{where}：min_evidence 应为整数") from None
                if min_ev < 0:
                    raise ConfigError(f"{where}：min_evidence 不能为负数")
                title = str(s["title"]).strip()
                stds.append(Standard(code, str(ind["name"]), str(it["name"]), title,
                                     str(s.get("short") or title[:14]).strip(), tuple(resp), tuple(mkeys), min_ev,
                                     str(s.get("evidence") or "相关活动记录或制度文件").strip(),
                                     str(s.get("improvement") or "").strip(),
                                     "、".join(str(r).strip() for r in _as_list(s.get("responsible")))))
            items.append(Item(f"{i}.{j}", str(it["name"]), tuple(stds), str(it.get("direction_title") or "").strip()))
        indicators.append(Indicator(str(i), str(ind["name"]), tuple(items), str(ind.get("task") or "").strip()))

    neg_title, neg_items = str(unit.get("negative_list_title") or "负面清单"), ()
    if unit.get("negative_list"):
        neg = _read_yaml(cdir / str(unit["negative_list"]))
        if not isinstance(neg, dict) or not neg.get("items"):
            raise ConfigError(f"{unit['negative_list']}：缺少负面清单项目（items）")
        neg_items = tuple(str(x).strip() for x in _as_list(neg["items"]))
        neg_title = str(unit.get("negative_list_title") or neg.get("title") or neg_title)

    deadline = unit.get("deadline")
    if deadline is not None and not isinstance(deadline, dt.date):
        raise ConfigError(f"unit.yaml：报送截止日期“{deadline}”应写成 2026-11-20")
    typed = UnitSettings.from_yaml(unit)  # every setting a run steers by, checked once, here

    evidence = _evidence_settings(cat, cname)
    overrides = {}
    for i, ind in enumerate(_as_list(cat["indicators"]), 1):
        for j, it in enumerate(_as_list(ind.get("items")), 1):
            for k, s in enumerate(_as_list(it.get("standards")), 1):
                if isinstance(s, dict) and s.get("evidence_rules") is not None:
                    code = str(s.get("code") or f"{i}.{j}.{k}")
                    overrides[code] = _evidence_rules(s["evidence_rules"], evidence.defaults, f"{cname} 测评标准 {code}")
    evidence = EvidenceSettings(evidence.enabled, evidence.defaults, overrides, evidence.numbering,
                                evidence.affects_status)

    return Config(
        dir=cdir, unit=str(unit["unit"]).strip(), short_name=str(unit.get("short_name") or unit["unit"]).strip(),
        year=year, template_version=str(unit.get("template_version") or "1"), departments=tuple(departments),
        catalog_id=str(cat.get("id") or catalog_file.stem), catalog_name=str(cat.get("name") or ""),
        metrics=metrics, indicators=tuple(indicators), negative_title=neg_title, negative_items=neg_items,
        settings=unit, evidence=evidence, unit_settings=typed,
        title_updates={str(k): str(v or "") for k, v in (cat.get("title_updates") or {}).items()}
        if isinstance(cat.get("title_updates"), dict) else {},
    )
