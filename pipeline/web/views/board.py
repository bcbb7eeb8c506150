"""报送情况: the first page, its table fragment (refreshed after uploads) and /api/status."""

from __future__ import annotations

from flask import g, jsonify, render_template

from pipeline.board import STATES
from pipeline.score import STATUSES


def _context() -> dict:
    bench = g.bench
    result = bench.result()
    board = bench.board()
    counts = {s: sum(r.status == s for r in result.standards) for s in STATUSES}
    from pipeline.mail.review import load_reviews
    return {"board": board, "result": result, "metrics": list(result.metrics.values()), "standard_counts": counts,
            "states": STATES, "reviews": load_reviews(bench.out)}


def page():
    return render_template("board.html", **_context())


def fragment():
    return render_template("_board.html", **_context())


def api_status():
    """unit, year, departments (the scores.json fields plus `state`: submitted / missing / unreadable / empty,
    `state_label` in Chinese, `late`) and metrics, for the current inbox."""
    bench = g.bench
    result = bench.result()
    scores = result.scores_dict()
    board = bench.board()
    departments = []
    for dept in scores["departments"]:
        state = board.department(dept["name"])
        departments.append({**dept, "state": state.code if state else None,
                            "state_label": state.state if state else None, "late": state.late if state else None,
                            "submitted_on": state.submitted_on.isoformat() if state and state.submitted_on else None,
                            "date_source": state.date_source if state else None})
    return jsonify({"unit": scores["unit"], "year": scores["year"], "catalog": scores["catalog"],
                    "deadline": board.deadline.isoformat() if board.deadline else None,
                    "days_left": board.days_left, "departments": departments, "metrics": scores["metrics"],
                    "problem_files": [{"name": f.name, "state": f.state, "department": f.department}
                                      for f in board.problem_files],
                    "unassigned_files": [{"name": f.name, "department": f.department} for f in board.unassigned]})
