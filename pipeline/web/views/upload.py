"""POST /upload: files saved into the inbox as `collect` saves them, and the result for each file."""

from __future__ import annotations

from flask import g, jsonify, render_template, request

from pipeline.web.uploads import save_upload


def upload():
    bench = g.bench
    limits = bench.limits
    files = [f for f in request.files.getlist("files") if f and f.filename]
    wants_json = request.accept_mimetypes.best == "application/json"
    if not files:
        message = "请先选择要上传的文件"
        return (jsonify({"error": message}), 400) if wants_json else \
            (render_template("_message.html", message=message, level="error"), 400)
    if len(files) > limits.max_files:
        message = f"一次最多上传 {limits.max_files} 个文件（本次 {len(files)} 个），请分几次上传"
        return (jsonify({"error": message}), 400) if wants_json else \
            (render_template("_message.html", message=message, level="error"), 400)
    with bench.inbox_lock:
        saved = [save_upload(bench.inbox, f.filename, f.stream, bench.config,
                             limits.max_file_bytes) for f in files]
    board = bench.board()
    by_name = {f.name: f for f in board.files}
    rows = [{"upload": up, "file": by_name.get(up.saved) if up.saved else None} for up in saved]
    if wants_json:
        return jsonify({"files": [_as_json(r) for r in rows]})
    resp = render_template("_upload_result.html", rows=rows)
    if request.headers.get("HX-Request"):
        return resp, 200, {"HX-Trigger": "board-changed"}
    return render_template("upload_page.html", rows=rows)


def _as_json(row: dict) -> dict:
    up, f = row["upload"], row["file"]
    out = {"original": up.original, "saved": up.saved, "refused": up.refused, "duplicate_of": up.duplicate_of}
    if f is not None:
        out.update(department=f.department, state=f.state, errors=f.errors, warnings=f.warnings,
                   issues=[i.as_dict() for i in f.issues])
    return out
