"""The result of a run: everything the documents are written from (plain data, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.catalog import Config
from pipeline.intake.merge import Merged
from pipeline.intake.validate import DUPLICATE, REJECTED, SUPERSEDED, USED
from pipeline.issues import ERROR, WARNING, Issue
from pipeline.profile import profile_record
from pipeline.score import MetricResult, StandardResult


@dataclass
class Result:
    """Everything the documents are written from."""

    config: Config
    year: int
    merged: Merged
    metrics: dict[str, MetricResult]
    standards: list[StandardResult]
    department_counts: dict[str, dict[str, tuple[int, int]]]
    issues: list[Issue]
    outputs: dict[str, Path] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    evidence: Any = None  # intake.evidence.EvidenceCheck: evidence files matched to the rows
    messages: list[str] = field(default_factory=list)  # console lines of the run (e.g. 说明报告 shortened)
    sample: bool = False  # the bundled demo inbox: every document is marked 示例数据 on its first page
    notes: list[str] = field(default_factory=list)  # 【待核实】 subjects and warnings of the documents, for the console
    history: Any = None  # earlier years (pipeline.store.history.HistoryFacts), set before the documents are written

    @property
    def submitted(self) -> list[str]:
        return [d for d in self.config.department_names if d in self.merged.winners]

    @property
    def missing(self) -> list[str]:
        return [d for d in self.config.department_names if d not in self.merged.winners]

    def department_state(self, dept: str) -> str:
        """submitted / unreadable / empty / missing (pipeline.vocabulary.STATE_LABELS has the Chinese):
        a department that sent only unreadable files or an untouched template is not 未报送."""
        return self.merged.state(dept)

    def row_counts(self) -> dict[str, dict[str, int]]:
        key = tuple((kind, id(frame), len(frame)) for kind, frame in self.merged.frames.items())
        cached = self.__dict__.get("_row_counts")
        if cached is None or cached[0] != key:  # the 校验报告 and scores.json both ask
            out = {}
            for kind, frame in self.merged.frames.items():
                status = frame["status"].value_counts()
                counts = {s: int(status.get(s, 0)) for s in (USED, REJECTED, DUPLICATE, SUPERSEDED)}
                out[kind] = {"read": int(len(frame)), **counts}
            cached = self.__dict__["_row_counts"] = (key, out)
        return {kind: dict(counts) for kind, counts in cached[1].items()}

    def department_issue_counts(self, dept: str) -> tuple[int, int]:
        """(errors, warnings) of a department: counted for all departments in one pass over the issues (asked
        once per department, a pass each would grow with departments × issues)."""
        key = (id(self.issues), len(self.issues))
        cached = self.__dict__.get("_issue_counts")
        if cached is None or cached[0] != key:
            counts: dict[str | None, list[int]] = {}
            for issue in self.issues:
                if issue.level == ERROR or issue.level == WARNING:
                    counts.setdefault(issue.department, [0, 0])[issue.level == WARNING] += 1
            cached = self.__dict__["_issue_counts"] = (key, counts)
        errors, warnings = cached[1].get(dept, (0, 0))
        return errors, warnings

    def scores_dict(self) -> dict:
        """scores.json as the contract (section 6) shows it."""
        return scores_dict(self)


def scores_dict(result: Result) -> dict:
    """scores.json as the contract (section 6) shows it."""
    from pipeline.score import roster_coverage
    cfg = result.config
    counted, missing = roster_coverage(cfg, result.department_counts)
    coverage = {"counted": counted, "missing": missing}  # contract §4 Coverage: rosters counted and missing
    departments = []
    for dept in cfg.department_names:
        win = result.merged.winners.get(dept)
        errors, warnings = result.department_issue_counts(dept)
        counts = result.department_counts.get(dept, {})
        departments.append({
            "name": dept, "submitted": win is not None, "file": win.name if win else None,
            "superseded": [r.name for r in result.merged.superseded.get(dept, [])],
            "errors": errors, "warnings": warnings,
            "state": result.department_state(dept), "state_files": result.merged.state_files.get(dept, []),
            "metrics": {k: {"numerator": counts[k][0], "denominator": counts[k][1],
                            "value": round(counts[k][0] / counts[k][1], 6) if counts[k][1] else None}
                        for k in cfg.metrics if k in counts},
        })
    return {
        "unit": cfg.unit, "year": result.year, "catalog": cfg.catalog_id, "config": profile_record(cfg),
        "metrics": {k: {**m.as_dict(), "coverage": coverage} for k, m in result.metrics.items()},
        "standards": [{"code": s.standard.code, "title": s.standard.title, "status": s.status,
                       "activities": s.activities, "documents": s.documents,
                       "responsible": list(s.standard.responsible), "metrics": list(s.standard.metrics),
                       "evidence_files": s.evidence_files, "evidence_missing": s.evidence_missing,
                       "evidence_reasons": s.evidence_reasons}
                      for s in result.standards],
        "evidence": result.evidence.facts() if result.evidence is not None else None,
        "departments": departments,
        "rows": result.row_counts(),
        "issues": [i.as_dict() for i in result.issues],
        **({"sample": True} if result.sample else {}),
    }
