"""The six metrics (contract section 4) and the status of every standard (section 5)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.catalog import Config, Metric, Standard

MET, FAILED, WEAK, MISSING = "达标", "未达标", "佐证不足", "未填报"
STATUSES = (MET, FAILED, WEAK, MISSING)


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

    @property
    def evidence(self) -> int:
        return self.activities + self.documents


def rows_where(frame: pd.DataFrame, column: str, predicate) -> pd.DataFrame:
    """The rows whose value in column satisfies predicate (safe on empty frames)."""
    mask = np.fromiter((bool(predicate(v)) for v in frame[column]), dtype=bool, count=len(frame))
    return frame.loc[mask]


def tagged(frame: pd.DataFrame, codes) -> pd.DataFrame:
    """Activities or documents tagged with any of the codes."""
    return rows_where(frame, "standard", lambda tags: any(c in codes for c in (tags or ())))


def metric_counts(roster: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """(numerator, denominator) of each metric over used, deduped roster rows of in-service staff."""
    r = rows_where(roster, "in_service", lambda v: v is True)

    def yes(col: str) -> np.ndarray:
        return np.array([v is True for v in r[col]], dtype=bool) if len(r) else np.zeros(0, bool)

    staff = len(r)
    party, volunteer = yes("party"), yes("volunteer")
    hours = np.array([isinstance(v, float) and v > 0 for v in r["service_hours"]], dtype=bool) if staff else party
    served = yes("served") | hours
    satisfaction = r["satisfaction"].tolist() if staff else []
    rated = sum(v is not None for v in satisfaction)
    content = sum(v in ("满意", "基本满意") for v in satisfaction)
    return {
        "participation_rate": (int(yes("participates").sum()), staff),
        "satisfaction_rate": (content, rated),
        "volunteer_registration_rate": (int(volunteer.sum()), staff),
        "party_volunteer_registration_rate": (int((party & volunteer).sum()), int(party.sum())),
        "volunteer_service_rate": (int((volunteer & served).sum()), int(volunteer.sum())),
        "legal_education_rate": (int(yes("legal_edu").sum()), staff),
    }


def compute_metrics(config: Config, roster_used: pd.DataFrame) -> dict[str, MetricResult]:
    counts = metric_counts(roster_used)
    return {k: MetricResult(m, *counts[k]) for k, m in config.metrics.items()}


def evidence_counts(frame: pd.DataFrame) -> dict[str, int]:
    """How many used rows are tagged with each standard code."""
    counts: dict[str, int] = {}
    for codes in frame["standard"]:
        for code in codes or ():
            counts[code] = counts.get(code, 0) + 1
    return counts


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
