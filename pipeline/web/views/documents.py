"""Documents: generate them all in the background with a progress bar; download each from the output folder."""

from __future__ import annotations

from flask import abort, g, render_template, request, send_file

from pipeline.web.state import pdf_missing_line


def _files():
    return [(g.bench.output_name(p), p.stat().st_size) for p in g.bench.output_files()]


def page():
    return render_template("documents.html", files=_files(), job=g.bench.job, pdf_missing=pdf_missing_line(),
                           out=g.bench.out)


def generate():
    job = g.bench.start_documents(pdf=request.form.get("pdf") == "1")
    return render_template("_progress.html", job=job, files=_files())


def progress():
    return render_template("_progress.html", job=g.bench.job, files=_files())


def download(name: str):
    path = g.bench.output_file(name)
    if path is None:
        abort(404)
    return send_file(path.resolve(), as_attachment=True, download_name=path.name, max_age=0,
                     mimetype="text/plain" if path.suffix.lower() == ".txt" else None)
