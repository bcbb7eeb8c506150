"""The roll-up of many units: read every package in a folder and compare the units (the command is
pipeline.jobs.rollup).

Facts first (``build_rollup``: plain data, no I/O besides reading), then three writers: the 汇总表 (xlsx),
the 汇总报告 (docx) and rollup.json. Bad packages never stop the roll-up; each is one Chinese line and a row
on the 问题 sheet.
"""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.catalog import Config
from pipeline.errors import ConfigError
from pipeline.store.package import Package, Problem, list_packages, read_package
from pipeline.vocabulary import FAILED, MET, MISSING, STATUSES, WEAK  # noqa: F401 - also for the roll-up's writers

POOL_MIN_PACKAGES = 200   # below this a second process costs more than it saves
ROLLUP_FILE = "rollup.yaml"

PROBLEM_ZH = {"broken-zip": "ZIP损坏", "unsafe": "不安全的文件名", "too-large": "过大", "missing-scores": "缺少scores.json",
              "bad-scores": "scores.json格式有误", "no-manifest": "缺少manifest.json", "bad-manifest": "manifest.json格式有误",
              "hash-mismatch": "校验值不符", "manifest-mismatch": "单位年度不一致", "duplicate": "重复报送",
              "other-catalog": "测评细则不同", "other-year": "年度不同", "not-package": "不是数据包"}


@dataclass
class UnitRow:
    """One unit's line in the roll-up."""

    unit: str
    package: str
    year: int
    catalog: str
    metrics: dict[str, dict[str, Any]]
    statuses: dict[str, str]                # reference code -> status (codes the unit's catalog shares)
    other_catalog: bool = False
    rank: int = 0

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(self.statuses.values())
        return {s: c.get(s, 0) for s in STATUSES}

    @property
    def met(self) -> int:
        return sum(s == MET for s in self.statuses.values())

    @property
    def below(self) -> list[str]:
        """Metrics below the unit's own threshold."""
        return [k for k, m in self.metrics.items() if m.get("passed") is False]


@dataclass
class Rollup:
    """Every fact the roll-up documents are written from."""

    year: int | None
    catalog: str
    catalog_name: str
    config: Config
    units: list[UnitRow]
    problems: list[Problem]
    expected_units: list[str] = field(default_factory=list)
    organisation: str = ""
    settings: dict = field(default_factory=dict)

    @property
    def codes(self) -> list[str]:
        return list(self.config.standards)

    @property
    def missing_units(self) -> list[str]:
        have = {u.unit for u in self.units} | {p.unit for p in self.problems if p.unit}
        return [u for u in self.expected_units if u not in have]

    def standard_counts(self) -> list[dict]:
        """Per reference standard: how many units are at each status, and which are not 达标."""
        out = []
        for code, std in self.config.standards.items():
            counts = Counter(u.statuses[code] for u in self.units if code in u.statuses)
            out.append({"code": code, "indicator": std.indicator, "short": std.short, "title": std.title,
                        "compared": sum(counts.values()), "counts": {s: counts.get(s, 0) for s in STATUSES},
                        "not_met": [u.unit for u in self.units if u.statuses.get(code, MET) != MET]})
        return out

    def weak_standards(self) -> list[dict]:
        """Standards not 达标 in at least weak_share of the units that report them, most widespread first."""
        share = float(self.settings.get("weak_share", 0.3))
        rows = [s for s in self.standard_counts() if s["compared"] and len(s["not_met"]) / s["compared"] >= share
                and s["not_met"]]
        rows.sort(key=lambda s: (-len(s["not_met"]) / s["compared"], s["code"]))
        return rows

    def leading(self) -> list[UnitRow]:
        n = int(self.settings.get("leading", 3))
        return [u for u in self.units if u.rank <= n and u.met > 0]

    def follow_up(self) -> list[tuple[UnitRow, dict]]:
        """Units to follow up, and why: a metric below its threshold, standards 未填报, or few standards met."""
        if not self.units:
            return []
        shares = [u.met / len(u.statuses) for u in self.units if u.statuses]
        avg = sum(shares) / len(shares) if shares else 0.0
        gap = float(self.settings.get("follow_up_gap", 0.15))
        out = []
        for u in self.units:  # "few": the share of standards met well below the average share
            why = {"below": u.below, "missing": u.counts[MISSING],
                   "few": bool(u.statuses) and u.met / len(u.statuses) < avg - gap}
            if why["below"] or why["missing"] or why["few"]:
                out.append((u, why))
        return out

    def as_dict(self) -> dict:
        return {
            "year": self.year, "catalog": self.catalog, "catalog_name": self.catalog_name,
            "organisation": self.organisation, "n_units": len(self.units), "n_standards": len(self.codes),
            "units": [{"rank": u.rank, "unit": u.unit, "package": u.package, "year": u.year, "catalog": u.catalog,
                       "other_catalog": u.other_catalog, "compared": len(u.statuses), "met": u.met,
                       "counts": u.counts, "below": u.below, "metrics": u.metrics, "statuses": u.statuses}
                      for u in self.units],
            "standards": self.standard_counts(),
            "weak_standards": [s["code"] for s in self.weak_standards()],
            "leading": [u.unit for u in self.leading()],
            "follow_up": [{"unit": u.unit, "below": w["below"], "missing": w["missing"], "few": w["few"]}
                          for u, w in self.follow_up()],
            "expected_units": self.expected_units, "missing_units": self.missing_units,
            "problems": [{"package": p.package, "kind": p.kind, "message": p.message, "excluded": p.excluded,
                          "unit": p.unit, "year": p.year} for p in self.problems],
        }


def load_settings(config: Config) -> dict:
    """rollup.yaml of the config folder (optional): the organisation, the expected units, thresholds."""
    path = config.dir / ROLLUP_FILE
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError):
        raise ConfigError(f"配置文件 {ROLLUP_FILE} 格式有误，无法读取") from None
    if not isinstance(data, dict):
        raise ConfigError(f"配置文件 {ROLLUP_FILE} 应为“键: 值”格式")
    return data


def read_all(paths: list[Path]) -> list[Package]:
    """Read every package; a process pool uses both cores when there are many."""
    workers = min(os.cpu_count() or 1, 4)
    if len(paths) < POOL_MIN_PACKAGES or workers < 2:
        return [_slim(read_package(p)) for p in paths]
    from pipeline.processes import context
    with ProcessPoolExecutor(max_workers=workers, mp_context=context()) as pool:
        return list(pool.map(_read_slim, paths, chunksize=max(1, len(paths) // (workers * 8))))


def _read_slim(path: Path) -> Package:
    return _slim(read_package(path))


def _slim(pkg: Package) -> Package:
    """Keep only what the roll-up uses: issues and department rows can be large."""
    if pkg.scores is not None:
        s = pkg.scores
        pkg.scores = {"unit": s["unit"], "year": s["year"], "catalog": s.get("catalog") or "",
                      "metrics": s["metrics"],
                      "standards": [{"code": x["code"], "status": x["status"]} for x in s["standards"]]}
    if pkg.manifest is not None:
        pkg.manifest = {k: v for k, v in pkg.manifest.items() if k != "files"}
    return pkg


def _later(a: Package, b: Package) -> bool:
    """True when a was exported after b (manifest time, then file time, then name)."""
    return (a.created_at, a.mtime, a.name) > (b.created_at, b.mtime, b.name)


def build_rollup(packages_dir: str | Path, config: Config) -> Rollup:
    """Read every package in a folder and compare the units (no files written)."""
    settings = load_settings(config)
    paths = list_packages(packages_dir)
    root = Path(packages_dir)
    problems: list[Problem] = []
    for entry in sorted(root.iterdir()):
        if entry.is_file() and not entry.name.startswith((".", "~$")) and entry.suffix.lower() != ".zip":
            problems.append(Problem(entry.name, "not-package", "不是 ZIP 数据包或文件夹，已忽略", True))
    packages = read_all(paths)
    for pkg in packages:
        problems.extend(pkg.problems)
    usable = [p for p in packages if p.usable]

    years = Counter(p.scores["year"] for p in usable)
    year = int(settings["year"]) if settings.get("year") else (years.most_common(1)[0][0] if years else None)
    kept: dict[str, Package] = {}
    for pkg in usable:
        s = pkg.scores
        if s["year"] != year:
            problems.append(Problem(pkg.name, "other-year", f"年度为{s['year']}年，与本次汇总的{year}年不同，未汇总",
                                    True, s["unit"], s["year"]))
            continue
        other = kept.get(s["unit"])
        if other is not None:
            newer, older = (pkg, other) if _later(pkg, other) else (other, pkg)
            kept[s["unit"]] = newer
            problems.append(Problem(older.name, "duplicate", f"{s['unit']}{year}年的数据包重复，以较晚导出的 "
                                    f"{newer.name} 为准，本包未汇总", True, s["unit"], year))
            continue
        kept[s["unit"]] = pkg

    reference = config.catalog_id
    ref_codes = config.standards
    units = []
    for pkg in kept.values():
        s = pkg.scores
        statuses = {x["code"]: x["status"] for x in s["standards"] if x["code"] in ref_codes}
        other = s["catalog"] != reference
        if other:
            problems.append(Problem(pkg.name, "other-catalog",
                                    f"采用的测评细则为“{s['catalog'] or '未注明'}”，与本次汇总的“{reference}”不同，"
                                    f"只在编码相同的{len(statuses)}条测评标准上比较", False, s["unit"], s["year"]))
        metrics = {k: {"numerator": m.get("numerator"), "denominator": m.get("denominator"), "value": m.get("value"),
                       "threshold": m.get("threshold"), "op": m.get("op"), "passed": m.get("passed")}
                   for k, m in s["metrics"].items() if isinstance(m, dict)}
        own = (s.get("config") or {}).get("metric_labels") if isinstance(s.get("config"), dict) else None
        for k, label in (own.items() if isinstance(own, dict) else ()):
            if k in metrics and isinstance(label, str):
                metrics[k]["label"] = label  # a unit's own metric, named as its catalog names it
        units.append(UnitRow(s["unit"], pkg.name, s["year"], s["catalog"], metrics, statuses, other))

    units.sort(key=lambda u: (-u.met, -u.counts[WEAK], u.unit))
    for i, u in enumerate(units):  # competition ranking: equal counts share a rank (1, 2, 2, 4)
        u.rank = units[i - 1].rank if i and units[i - 1].met == u.met else i + 1
    expected = [str(x).strip() for x in settings.get("units") or [] if str(x).strip()]
    organisation = str(settings.get("organisation") or config.unit)
    return Rollup(year, reference, config.catalog_name, config, units, problems, expected, organisation, settings)


@dataclass
class RollupSummary:
    n_units: int
    problem_lines: list[str]
    outputs: list[Path]


def output_names(year: int | None) -> dict[str, str]:
    y = f"{year}年" if year else ""
    return {"xlsx": f"{y}文明单位创建汇总表.xlsx", "docx": f"{y}文明单位创建情况汇总报告.docx", "json": "rollup.json"}
