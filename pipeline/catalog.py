"""The standards catalog and the unit configuration, loaded from YAML and validated."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from pipeline.addresses import AddressError, normal_address
from pipeline.errors import ConfigError
from pipeline.schema import ROSTER
from pipeline.profile import (COLUMN_KEYS, DENOMINATOR_KEYS, Located, Problems, check_keys, fingerprint, profile_files,
                              read_located, suggest, unit_schema, catalog_schema)
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

#: words of the wording that depend on what the unit is (unit.yaml `unit_words`); Tianjin's, a 机关 with a 党组
UNIT_WORDS = {
    "党组织": "党组",          # 党组 / 党委 / 党总支: who leads the creation work, and whose meetings study it
    "部门统称": "机关各部门",   # 机关各部门 / 全院各科室 / 全校各部门
    "部门称谓": "部室",        # 部室 / 科室 / 处室: 各部室主要负责人
    "创建称号": "文明机关",     # 文明机关 / 文明单位 / 文明校园: what the unit aims to become
    "单位建设": "机关建设",     # 机关建设 / 医院建设 / 学校建设: 提高…水平
    "文明办": "市文明办",       # 市文明办 / 县文明办 / 区文明办: whose requirements the report measures itself by
    "职工称谓": "干部职工",     # 干部职工 / 职工 / 教职工 / 医务人员: the staff in the report's sentences
}

_OPS = {">": ">", "大于": ">", "高于": ">", "超过": ">", ">=": ">=", "≥": ">=", "不低于": ">=", "大于等于": ">=",
        "不少于": ">=", "以上": ">=", "达到": ">="}
_EMBEDDED_OP = re.compile(r"^(>=|≥|>|大于等于|不低于|不少于|大于|高于|超过|达到)?\s*(.*?)\s*(以上)?$")


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    threshold: float
    op: str  # ">" or ">="
    short: str = ""  # a short label for charts and narrow columns (catalog `short:`), e.g. 参与率
    column: str = ""       # a catalog's own metric: the yes/no 人员名单 column counted in the numerator
    denominator: str = ""  # … and what it is counted over: staff | party | volunteer (DENOMINATORS)
    problem_title: str = ""  # the 存在问题 heading when it falls short (catalog `problem_title`), e.g. 知晓面还不够广

    @property
    def custom(self) -> bool:
        """A metric the catalog defines itself (contract section 4, Further metrics)."""
        return bool(self.column)

    @property
    def column_key(self) -> str:
        """The roster frame's column of a catalog's own metric."""
        return f"m_{self.key}"

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
    fingerprint: str = ""          # SHA-256 (16 hex) of the profile's files (profile.fingerprint)
    catalog_fingerprint: str = ""  # … of the catalog file alone
    notes: tuple[str, ...] = ()    # what `check` points out without stopping a command (file and line each)

    @property
    def unit_words(self) -> dict[str, str]:
        """The words that depend on what the unit is (unit.yaml `unit_words` over Tianjin's defaults)."""
        own = self.settings.get("unit_words") if isinstance(self.settings.get("unit_words"), dict) else {}
        return {**UNIT_WORDS, **{str(k): str(v) for k, v in own.items() if str(k) in UNIT_WORDS and v}}

    @property
    def custom_metrics(self) -> list["Metric"]:
        """The catalog's own metrics, in catalog order (their roster columns follow the fixed ones)."""
        return [m for m in self.metrics.values() if m.custom]

    def example_code(self, department: str | None = None) -> str:
        """A code of this catalog for hints (如 …): one of the department's own standards when it has one."""
        own = self.standards_for(department) if department else []
        pool = own or list(self.standards.values())
        return pool[0].code if pool else ""

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
    return read_located(path).data


#: the denominators a catalog's own metric may count over (contract section 4, Further metrics)
DENOMINATORS = {"staff": "在职干部职工", "party": "在职党员", "volunteer": "在职注册志愿者"}
_DENOMINATOR_WORDS = {  # compared without case, spaces, "-" or "_" (in-service staff = inservicestaff)
    **dict.fromkeys(("staff", "inservice", "inservicestaff", "staffinservice", "employees", "all", "在职",
                     "在职职工", "在职干部职工", "干部职工", "职工", "在职人员", "全体", "全体职工"), "staff"),
    **dict.fromkeys(("party", "partymember", "partymembers", "inservicepartymembers", "党员", "在职党员"), "party"),
    **dict.fromkeys(("volunteer", "volunteers", "registeredvolunteer", "registeredvolunteers", "注册志愿者",
                     "志愿者", "在职注册志愿者"), "volunteer"),
}


def _denominator_word(raw: Any) -> str:
    return _DENOMINATOR_WORDS.get(re.sub(r"[\s_\-]", "", normalize_name(raw).lower()), "")
_ROSTER_HEADERS = {normalize_name(c.name) for c in ROSTER.columns} | {
    normalize_name(a) for c in ROSTER.columns for a in c.aliases}
CODE_FORM = re.compile(r"\d{1,2}\.\d{1,2}\.\d{1,2}")  # what the workbooks' 测评标准 column is read as (intake/values.py)
_METRIC_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def _threshold(raw: Any, doc: Located, path: tuple, problems: Problems) -> float | None:
    """0.9, 90, 90% -> 0.9; a value that cannot be meant (0.95%, 120%) is a problem naming its line."""
    name = f"计算指标 {path[1]} 的" if len(path) > 1 else ""
    bad = f"{name}阈值“{raw}”无效，应写成 90% 或 0.9"
    if isinstance(raw, bool) or raw is None:
        problems.add(doc, path, bad)
        return None
    if isinstance(raw, (int, float)):
        value, percent = float(raw), False
    else:
        text = normalize_name(raw).replace("％", "%")
        m = re.fullmatch(r"(\d+(?:\.\d+)?)(%?)", text)
        if not m:
            problems.add(doc, path, bad)
            return None
        percent = bool(m.group(2))
        value = float(m.group(1)) / (100 if percent else 1)
    if percent and 0 < value < 0.01:
        problems.add(doc, path, f"{name}阈值“{raw}”不到 1%，不像是本意：是不是 {format_percent(value * 100, None)}"
                                f"（或写成 {value * 100:g}）？")
        return None
    if not percent and value > 1:
        value /= 100
    if not 0 <= value <= 1:
        problems.add(doc, path, f"{name}阈值“{raw}”超出 0%–100% 的范围，比例最高是 100%")
        return None
    return value


def _op(raw: Any, doc: Located, path: tuple, problems: Problems) -> str:
    op = _OPS.get(normalize_name(raw if raw is not None else ">"))
    if op is None:
        problems.add(doc, path, f"计算指标 {path[1]} 的比较符“{raw}”无效，应为 >（大于）或 >=（不低于）")
        return ">"
    return op


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def load_config(config_dir: str | Path | None = None) -> Config:
    """Load and validate unit.yaml, its catalog and negative list from a folder.

    Every mistake is collected, each naming its file and line, and raised together (ConfigProblems)."""
    cdir = Path(config_dir) if config_dir else DEFAULT_CONFIG_DIR
    if not cdir.is_dir():
        raise ConfigError(f"配置文件夹不存在：{cdir}")
    problems = Problems()
    udoc = read_located(cdir / "unit.yaml")
    unit = udoc.data
    if not isinstance(unit, dict):
        raise ConfigError("unit.yaml 应为“键: 值”格式")
    check_keys(udoc, unit_schema(), problems)
    for key in ("unit", "year", "departments"):
        if not unit.get(key):
            problems.add(udoc, None, f"缺少“{key}”")
    try:
        year = int(unit.get("year") or 0)
    except (TypeError, ValueError):
        problems.add(udoc, ("year",), f"年度“{unit['year']}”不是年份")
        year = 0

    departments = []
    seen: dict[str, str] = {}
    for i, d in enumerate(_as_list(unit.get("departments")), 1):
        if isinstance(d, str):
            d = {"name": d}
        if not isinstance(d, dict) or not d.get("name"):
            problems.add(udoc, ("departments", i - 1), f"第{i}个部门缺少名称（name）")
            continue
        try:
            email = normal_address(str(d.get("email") or ""))
        except AddressError as exc:
            problems.add(udoc, ("departments", i - 1, "email"), f"{str(d['name']).strip()}的邮箱{exc}")
            email = ""
        dep = Department(str(d["name"]).strip(), tuple(str(a).strip() for a in _as_list(d.get("aliases"))),
                         email)
        for a in (dep.name, *dep.aliases):
            key = normalize_name(a)
            if key in seen and seen[key] != dep.name:
                problems.add(udoc, ("departments", i - 1), f"部门名称或别名“{a}”重复（{seen[key]}、{dep.name}）")
            seen[key] = dep.name
        departments.append(dep)
    mail = unit.get("mail")
    if isinstance(mail, dict) and mail.get("sender"):
        try:
            mail["sender"] = normal_address(str(mail["sender"]))
        except AddressError as exc:
            problems.add(udoc, ("mail", "sender"), f"mail.sender（发件邮箱）{exc}")

    catalog_file = cdir / str(unit.get("catalog") or "catalog.yaml")
    if not catalog_file.is_file():
        problems.add(udoc, ("catalog",), f"测评标准目录文件“{catalog_file.name}”不存在")
        problems.raise_if_any()
    cdoc = read_located(catalog_file)
    cat = cdoc.data
    cname = catalog_file.name
    if not isinstance(cat, dict) or not cat.get("indicators"):
        problems.add(cdoc, None, "缺少测评指标（indicators）")
        problems.raise_if_any()
    check_keys(cdoc, catalog_schema(), problems)

    metrics: dict[str, Metric] = {}
    raw_metrics, sections = {}, {}
    for section in ("metrics", "further_metrics", "custom_metrics", "extra_metrics"):  # a catalog's own may
        found = cat.get(section) or {}                                                  # have their own section
        if not isinstance(found, dict):
            problems.add(cdoc, (section,), f"{section} 应为“指标键: 设置”格式")
            continue
        for k, v in found.items():
            raw_metrics.setdefault(str(k), v)
            sections.setdefault(str(k), section)
    for key, m in raw_metrics.items():
        key = str(key)
        path = (sections[key], key)
        m = m if isinstance(m, dict) else {}
        column = str(next((m[k] for k in COLUMN_KEYS if m.get(k)), "") or "").strip()
        denom = next((m[k] for k in DENOMINATOR_KEYS if m.get(k) is not None), None)
        if key not in METRIC_KEYS:
            if not _METRIC_KEY.fullmatch(key):
                problems.add(cdoc, path, f"计算指标的键“{key}”应由英文字母、数字和下划线组成，如 awareness_rate")
                continue
            if not column or denom is None:
                close = difflib.get_close_matches(key, METRIC_KEYS, n=1, cutoff=0.75)
                problems.add(cdoc, path, (f"未知的计算指标“{key}”，是不是 {close[0]}？" if close else
                                          f"计算指标“{key}”不是内置的六项（{'、'.join(METRIC_KEYS)}）之一；"
                                          f"本目录自定义的指标须写明 column（人员名单中“是/否”栏目的表头）"
                                          f"和 denominator（staff 在职干部职工、party 在职党员、volunteer 注册志愿者）"))
                continue
        elif column or denom is not None:
            problems.add(cdoc, path, f"{key} 是内置指标，其分子分母已固定，不能再写 column 或 denominator")
        denominator = ""
        if key not in METRIC_KEYS:
            denominator = _denominator_word(denom)
            if not denominator:
                problems.add(cdoc, path + ("denominator",), f"分母“{denom}”无效，应为 staff（在职干部职工）、"
                                                            f"party（在职党员）或 volunteer（注册志愿者）")
                continue
        raw_threshold, embedded = m.get("threshold"), None
        if isinstance(raw_threshold, str):  # "≥90%" or "90%以上": the operator written with the figure
            found = _EMBEDDED_OP.match(unicodedata.normalize("NFKC", raw_threshold).strip())
            if found and (found.group(1) or found.group(3)):
                embedded, raw_threshold = found.group(1) or found.group(3), found.group(2)
        threshold = _threshold(raw_threshold, cdoc, path + ("threshold",), problems)
        op = _op(m.get("op", embedded), cdoc, path + ("op",), problems)
        if threshold is None:
            continue
        metrics[key] = Metric(key, str(m.get("label") or key), threshold, op, str(m.get("short") or ""),
                              column, denominator, str(m.get("problem_title") or "").strip())
    headers = {}
    for k, met in metrics.items():
        if met.column:
            norm = normalize_name(met.column)
            if norm in _ROSTER_HEADERS or norm in headers:
                problems.add(cdoc, (sections[k], k, "column"), f"栏目“{met.column}”与人员名单中已有的栏目重名，请换一个表头")
            headers[norm] = k

    all_words = {normalize_name(w) for w in _as_list(cat.get("all_departments_words") or ["各部门", "机关各部门"])}
    names = [d.name for d in departments]
    resolver = alias_map(departments)

    indicators = []
    codes: dict[str, int | None] = {}
    for i, ind in enumerate(_as_list(cat["indicators"]), 1):
        ipath = ("indicators", i - 1)
        if not isinstance(ind, dict) or not ind.get("name"):
            problems.add(cdoc, ipath, f"第{i}个测评指标缺少名称")
            continue
        items = []
        for j, it in enumerate(_as_list(ind.get("items")), 1):
            tpath = ipath + ("items", j - 1)
            if not isinstance(it, dict) or not it.get("name"):
                problems.add(cdoc, tpath, f"测评项目 {i}.{j} 缺少名称")
                continue
            stds = []
            for k, s in enumerate(_as_list(it.get("standards")), 1):
                spath = tpath + ("standards", k - 1)
                code = f"{i}.{j}.{k}"
                if isinstance(s, dict) and s.get("code") is not None:
                    code = str(s["code"]).strip()
                    if spath + ("code",) in cdoc.floats:
                        typed = cdoc.floats[spath + ("code",)]
                        problems.add(cdoc, spath + ("code",), f"编码 {typed} 没有加引号，被读成了数字 {s['code']}；"
                                                             f"请写成 code: \"{typed}\"")
                        code = typed
                    if not CODE_FORM.fullmatch(code):
                        problems.add(cdoc, spath + ("code",), f"编码“{code}”不是本目录的编码形式"
                                                             f"（指标.项目.标准，如 {i}.{j}.{k}），请改正")
                where = f"测评标准 {code}"
                if not isinstance(s, dict) or not s.get("title"):
                    problems.add(cdoc, spath, f"{where} 缺少标准内容（title）")
                    continue
                if code in codes:
                    first = codes[code]
                    problems.add(cdoc, spath + ("code",) if "code" in s else spath,
                                 f"{where} 编码重复" + (f"（第{first}行已有）" if first else ""))
                codes.setdefault(code, cdoc.line(*spath, "code") if "code" in s else cdoc.line(*spath))
                resp: list[str] = []
                for r in _as_list(s.get("responsible")):
                    key = normalize_name(r)
                    targets = names if key in all_words else [resolver.get(key)]
                    if targets == [None]:
                        close = difflib.get_close_matches(str(r), names, n=1, cutoff=0.5)
                        problems.add(cdoc, spath + ("responsible",),
                                     f"{where} 的责任部门“{r}”不在 unit.yaml 的部门名单中（{'、'.join(names)}）"
                                     + (f"，是不是 {close[0]}？" if close else ""))
                        continue
                    resp.extend(t for t in targets if t not in resp)
                if not resp and not s.get("responsible"):
                    problems.add(cdoc, spath, f"{where} 缺少责任部门（responsible）")
                mkeys = [str(x) for x in _as_list(s.get("metrics"))]
                for mk in mkeys:
                    if mk not in metrics and mk not in raw_metrics:
                        close = difflib.get_close_matches(mk, list(raw_metrics), n=1, cutoff=0.6)
                        problems.add(cdoc, spath + ("metrics",), f"{where} 引用了未定义的计算指标“{mk}”"
                                     + (f"，是不是 {close[0]}？" if close else
                                        f"（catalog 的 metrics 中定义的有：{'、'.join(raw_metrics) or '无'}）"))
                try:
                    min_ev = int(s.get("min_evidence", 1))
                    if min_ev < 0:
                        raise ValueError
                except (TypeError, ValueError):
                    problems.add(cdoc, spath + ("min_evidence",), f"{where} 的 min_evidence 应为不小于 0 的整数")
                    min_ev = 1
                title = str(s["title"]).strip()
                stds.append(Standard(code, str(ind["name"]), str(it["name"]), title,
                                     str(s.get("short") or title[:14]).strip(), tuple(resp),
                                     tuple(mk for mk in mkeys if mk in metrics), min_ev,
                                     str(s.get("evidence") or ("人员名单中的统计数据" if mkeys and not min_ev
                                                               else "相关活动记录或制度文件")).strip(),
                                     str(s.get("improvement") or "").strip(),
                                     "、".join(str(r).strip() for r in _as_list(s.get("responsible")))))
            items.append(Item(f"{i}.{j}", str(it["name"]), tuple(stds), str(it.get("direction_title") or "").strip()))
        indicators.append(Indicator(str(i), str(ind["name"]), tuple(items), str(ind.get("task") or "").strip()))

    neg_title, neg_items, neg_file = str(unit.get("negative_list_title") or "负面清单"), (), None
    if unit.get("negative_list"):
        neg_file = cdir / str(unit["negative_list"])
        if not neg_file.is_file():
            problems.add(udoc, ("negative_list",), f"负面清单文件“{unit['negative_list']}”不存在")
            neg_file = None
        else:
            ndoc = read_located(neg_file)
            check_keys(ndoc, {"title": None, "items": None}, problems)
            neg = ndoc.data
            if not isinstance(neg, dict) or not neg.get("items"):
                problems.add(str(unit["negative_list"]), None, "缺少负面清单项目（items）")
            else:
                neg_items = tuple(str(x).strip() for x in _as_list(neg["items"]))
                neg_title = str(unit.get("negative_list_title") or neg.get("title") or neg_title)

    deadline = unit.get("deadline")
    if deadline is not None and not isinstance(deadline, dt.date):
        problems.add(udoc, ("deadline",), f"报送截止日期“{deadline}”应写成 {year or 2026}-11-20 这样的日期")
    notes = Problems()  # what `check` points out without stopping the other commands
    coordinator = unit.get("coordinator")
    if coordinator and names and not resolver.get(normalize_name(coordinator)):
        notes.add(udoc, ("coordinator",), f"牵头部门“{coordinator}”不在部门名单中（{'、'.join(names)}），"
                                          f"催报中发给牵头部门的邮件无人可收")
    neg_dept = unit.get("negative_list_department", "办公室" if unit.get("negative_list") else None)
    if neg_dept and names and not resolver.get(normalize_name(neg_dept)):
        notes.add(udoc, ("negative_list_department",) if "negative_list_department" in unit else ("negative_list",),
                  f"填报负面清单的部门“{neg_dept}”不在部门名单中（{'、'.join(names)}），没有部门的模板有"
                  f"“负面清单自查”工作表；请在 negative_list_department 中写明")
    words = unit.get("unit_words")
    if words is not None and not (isinstance(words, dict) and all(isinstance(v, str) for v in words.values())):
        problems.add(udoc, ("unit_words",), "unit_words 应为“用语: 文字”格式，如 党组织: 党委")
    elif isinstance(words, dict):
        for k in words:
            if str(k) not in UNIT_WORDS:
                problems.add(udoc, ("unit_words", str(k)), f"不认识的单位用语“{k}”，{suggest(str(k), UNIT_WORDS)}")
    try:
        typed = UnitSettings.from_yaml(unit)  # every setting a run steers by, checked once, here
    except ConfigError as exc:  # its one line, placed on the line of the key it names
        found = re.match(r"unit\.yaml(?: 的 ([\w.]+))?[：:\s]*(.*)", str(exc))
        key = found.group(1) if found and found.group(1) else ""
        problems.add(udoc, tuple(key.split(".")) if key else None,
                     (f"{key} {found.group(2)}" if key else found.group(2)) if found else str(exc))
        typed = None

    try:
        evidence = _evidence_settings(cat, cname)
        overrides = {}
        for i, ind in enumerate(_as_list(cat["indicators"]), 1):
            for j, it in enumerate(_as_list(ind.get("items") if isinstance(ind, dict) else None), 1):
                for k, s in enumerate(_as_list(it.get("standards") if isinstance(it, dict) else None), 1):
                    if isinstance(s, dict) and s.get("evidence_rules") is not None:
                        code = str(s.get("code") or f"{i}.{j}.{k}")
                        overrides[code] = _evidence_rules(s["evidence_rules"], evidence.defaults,
                                                          f"{cname} 测评标准 {code}")
        evidence = EvidenceSettings(evidence.enabled, evidence.defaults, overrides, evidence.numbering,
                                    evidence.affects_status)
    except ConfigError as exc:
        problems.add(cdoc, ("evidence_rules",), str(exc).split("：", 1)[-1])
        evidence = EvidenceSettings()
    problems.raise_if_any()

    files = profile_files(cdir, catalog_file, neg_file)
    return Config(
        dir=cdir, unit=str(unit["unit"]).strip(), short_name=str(unit.get("short_name") or unit["unit"]).strip(),
        year=year, template_version=str(unit.get("template_version") or "1"), departments=tuple(departments),
        catalog_id=str(cat.get("id") or catalog_file.stem), catalog_name=str(cat.get("name") or ""),
        metrics=metrics, indicators=tuple(indicators), negative_title=neg_title, negative_items=neg_items,
        settings=unit, evidence=evidence, unit_settings=typed,
        title_updates={str(k): str(v or "") for k, v in (cat.get("title_updates") or {}).items()}
        if isinstance(cat.get("title_updates"), dict) else {},
        fingerprint=fingerprint(files, cdir), catalog_fingerprint=fingerprint([catalog_file], cdir),
        notes=tuple(notes.lines),
    )
