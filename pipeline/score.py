"""The metrics (contract section 4: the six, and a catalog's own) and the status of every standard (section 5)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.catalog import Config, Metric, Standard

from pipeline.vocabulary import FAILED, MET, MISSING, STATUSES, WEAK  # noqa: F401 - the statuses, for importers of score


@dataclass(frozen=True)
class MetricResult:
    metric: Metric
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator

    @property
    def passed(self) -> bool | None:
        return None if self.value is None else self.metric.passes(self.value)

    def as_dict(self) -> dict:
        return {"numerator": self.numerator, "denominator": self.denominator,
                "value": None if self.value is None else round(self.value, 6),
                "threshold": self.metric.threshold, "op": self.metric.op, "passed": self.passed}


@dataclass
class StandardResult:
    standard: Standard
    status: str
    activities: int
    documents: int
    metrics: list[MetricResult] = field(default_factory=list)
    missing_departments: list[str] = field(default_factory=list)
    evidence_files: int = 0       # 佐证材料 files matched by its rows (intake/evidence.py)
    evidence_missing: int = 0     # names in its rows' 佐证材料 cells that match no file
    evidence_reasons: list[str] = field(default_factory=list)  # evidence rules its rows fail

    @property
    def evidence(self) -> int:
        return self.activities + self.documents


def rows_where(frame: pd.DataFrame, column: str, predicate) -> pd.DataFrame:
    """The rows whose value in column satisfies predicate (safe on empty frames)."""
    mask = np.frompyfunc(predicate, 1, 1)(frame[column].to_numpy(dtype=object)).astype(bool)
    return frame.loc[mask]


def standard_index(frame: pd.DataFrame) -> dict[str, list[int]]:
    """Positions of the rows tagged with each standard code, built in one pass."""
    index: dict[str, list[int]] = {}
    for pos, codes in enumerate(frame["standard"]):
        for code in codes or ():
            index.setdefault(code, []).append(pos)
    return index


def tagged(frame: pd.DataFrame, codes, index: dict[str, list[int]] | None = None) -> pd.DataFrame:
    """Rows tagged with any of the codes, in frame order; pass standard_index(frame) when asking many times."""
    index = standard_index(frame) if index is None else index
    positions = sorted({p for code in codes for p in index.get(code, ())})
    return frame.iloc[positions]


_PARTS = {  # metric -> (numerator column, denominator column) of metric_parts()
    "participation_rate": ("participates", "staff"),
    "satisfaction_rate": ("content", "rated"),
    "volunteer_registration_rate": ("volunteer", "staff"),
    "party_volunteer_registration_rate": ("party_volunteer", "party"),
    "volunteer_service_rate": ("volunteer_served", "volunteer"),
    "legal_education_rate": ("legal_edu", "staff"),
}


def _custom(config: Config | None) -> list[Metric]:
    return list(config.custom_metrics) if config is not None else []


def _parts_of(config: Config | None) -> dict[str, tuple[str, str]]:
    """metric -> (numerator, denominator) columns: the six, and the catalog's own over their roster column."""
    return {**_PARTS, **{m.key: (f"n_{m.key}", m.denominator) for m in _custom(config)}}


def metric_parts(roster: pd.DataFrame, config: Config | None = None) -> pd.DataFrame:
    """Per used roster row, 0/1 for every numerator and denominator of the metrics (in-service staff only):
    the six of the contract and, with the config, the catalog's own (its yes/no roster column over staff,
    party members or registered volunteers)."""
    def yes(col: str) -> np.ndarray:
        if col not in roster:  # a catalog's own column in frames read before it existed
            return np.zeros(len(roster), dtype=bool)
        return np.asarray(roster[col].to_numpy(dtype=object) == True, dtype=bool)  # noqa: E712 - True, not truthy

    staff = yes("in_service")
    hours = pd.to_numeric(roster["service_hours"], errors="coerce").fillna(0).to_numpy() > 0
    volunteer = staff & yes("volunteer")
    party = staff & yes("party")
    rated = staff & roster["satisfaction"].notna().to_numpy()
    parts = {
        "staff": staff, "participates": staff & yes("participates"), "legal_edu": staff & yes("legal_edu"),
        "rated": rated, "content": rated & roster["satisfaction"].isin(("满意", "基本满意")).to_numpy(),
        "volunteer": volunteer, "party": party, "party_volunteer": party & volunteer,
        "volunteer_served": volunteer & (yes("served") | hours),
    }
    within = {"staff": staff, "party": party, "volunteer": volunteer}
    for m in _custom(config):
        parts[f"n_{m.key}"] = within[m.denominator] & yes(m.column_key)
    return pd.DataFrame({k: v.astype(np.int64) for k, v in parts.items()}, index=roster.index)


def _counts(sums, config: Config | None = None) -> dict[str, tuple[int, int]]:
    return {k: (int(sums[n]), int(sums[d])) for k, (n, d) in _parts_of(config).items()}


def metric_counts(roster: pd.DataFrame, config: Config | None = None) -> dict[str, tuple[int, int]]:
    """(numerator, denominator) of each metric over used, deduped roster rows of in-service staff."""
    return _counts(metric_parts(roster, config).sum(), config)


def department_metric_counts(roster: pd.DataFrame, config: Config | None = None
                             ) -> dict[str, dict[str, tuple[int, int]]]:
    """metric_counts for every submitting department at once."""
    sums = metric_parts(roster, config).groupby(roster["department"].to_numpy(), sort=False).sum()
    return {dept: _counts(row, config) for dept, row in sums.to_dict("index").items()}


def roster_coverage(config: Config, department_counts: dict) -> tuple[list[str], list[str]]:
    """Contract §4 Coverage: (departments whose roster rows were counted, departments expected but missing:
    未报送, unreadable, empty, or a workbook without roster rows), in configured order."""
    def counted_(d: str) -> bool:  # a submitted workbook whose roster had no in-service row counts as missing
        counts = department_counts.get(d)
        return bool(counts) and any(den for _, den in counts.values())
    counted = [d for d in config.department_names if counted_(d)]
    return counted, [d for d in config.department_names if not counted_(d)]


def compute_metrics(config: Config, roster_used: pd.DataFrame) -> dict[str, MetricResult]:
    counts = metric_counts(roster_used, config)
    return {k: MetricResult(m, *counts[k]) for k, m in config.metrics.items()}


def evidence_counts(frame: pd.DataFrame) -> dict[str, int]:
    """How many used rows are tagged with each standard code."""
    return {code: len(rows) for code, rows in standard_index(frame).items()}


def score_standards(config: Config, metrics: dict[str, MetricResult], activities: pd.DataFrame,
                    documents: pd.DataFrame, submitted: set[str]) -> list[StandardResult]:
    acts, docs = evidence_counts(activities), evidence_counts(documents)
    results = []
    for std in config.standards.values():
        mres = [metrics[k] for k in std.metrics]
        a, d = acts.get(std.code, 0), docs.get(std.code, 0)
        missing = [dep for dep in std.responsible if dep not in submitted]
        if len(missing) == len(std.responsible):
            status = MISSING
        elif any(m.passed is False for m in mres):
            status = FAILED
        elif a + d < std.min_evidence or any(m.passed is None for m in mres):
            status = WEAK  # a metric with no data cannot show the standard is met
        else:
            status = MET
        results.append(StandardResult(std, status, a, d, mres, missing))
    return results
