"""测评标准: every standard with its status and evidence, down to each activity and document and its source."""

from __future__ import annotations

from flask import g, render_template

from pipeline.board import evidence_by_standard
from pipeline.score import STATUSES


def page():
    result = g.bench.result()
    by_status = {s: sum(r.status == s for r in result.standards) for s in STATUSES}
    return render_template("standards.html", standards=result.standards, evidence=evidence_by_standard(result),
                           by_status=by_status)
