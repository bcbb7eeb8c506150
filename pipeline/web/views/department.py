"""One department: its state, issues, metrics, standards and evidence; its template and 校验 sheet; 退回/已审核."""

from __future__ import annotations

import io

from flask import abort, g, redirect, render_template, request, send_file

from pipeline.board import evidence_by_standard
from pipeline.mail.review import APPROVED, RETURNED, load_reviews, mark

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _department(name: str):
    bench = g.bench
    if name not in bench.config.department_names:
        abort(404)
    return bench


def page(name: str):
    bench = _department(name)
    result = bench.result()
    board = bench.board()
    state = board.department(name)
    win = result.merged.winners.get(name)
    issues = [i for i in result.issues if i.department == name or (state and i.file in {f.name for f in state.files})]
    counts = result.department_counts.get(name, {})
    metrics = [(m.metric, counts.get(k)) for k, m in result.metrics.items()]
    standards = [s for s in result.standards if name in s.standard.responsible]
    evidence = evidence_by_standard(result)
    return render_template("department.html", name=name, state=state, win=win, issues=issues, metrics=metrics,
                           standards=standards, evidence=evidence, review=load_reviews(bench.out).get(name), RETURNED=RETURNED, APPROVED=APPROVED)


def template(name: str):
    bench = _department(name)
    from pipeline.documents.workbook import workbook_bytes
    from pipeline.templates import build_template, template_filename
    buf = io.BytesIO(workbook_bytes(build_template(bench.config, name)))  # the one writer path, as mailed
    return send_file(buf, mimetype=XLSX, as_attachment=True, download_name=template_filename(bench.config, name))


def sheet(name: str):
    """Its sheet of the 校验报告 for the current inbox, as a workbook of its own (as the receipt attaches it)."""
    bench = _department(name)
    from pipeline.mail.notices import department_sheet
    data = department_sheet(bench.config, bench.result().scores_dict(), name)
    if data is None:
        abort(404)
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name=f"{name}-{bench.config.year}年台账校验问题.xlsx")


def review(name: str):
    bench = _department(name)
    state = bench.board().department(name)
    mark(bench.out, name, request.form.get("status", ""), state.file if state else None,
         request.form.get("reason", ""))
    return redirect(f"/departments/{name}", code=303)
