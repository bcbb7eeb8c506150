"""The year's work from the page (contract §12): `POST /jobs/<command>` starts the job of pipeline.jobs that the
command line runs (form fields as the command's options), `GET /jobs/<id>` says how it goes; the 全年工作 page,
the history page, the templates as one ZIP, and `POST /inbox/withdraw`. Views only parse input and render."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Callable

from flask import abort, g, jsonify, render_template, request, send_file

from pipeline import jobs
from pipeline.errors import PipelineError
from pipeline.web.runner import Busy, WebJob

#: what the page calls each job, and the folder it holds while it runs ("out", "inbox", "templates", "history")
TITLES = {"templates": ("生成部门台账模板", "templates"), "report": ("生成自查报告等文件", "out"),
          "plan": ("生成实施方案", "out"), "halfyear": ("生成半年总结", "out"), "bulletin": ("生成进度通报", "out"),
          "archive": ("生成分类档案", "out"), "collect": ("收取邮件附件", "inbox"), "notify": ("发送回执和催报", "out"),
          "history": ("查看历年记录", "history"), "export": ("导出单位数据包", "out")}


class FormError(PipelineError):
    """A form field the job cannot take (one Chinese line, answered with 400)."""


def _field(form, *names: str) -> str:
    """A field by any of its spellings (`imap_host`, `imap-host`, `--imap-host`), stripped."""
    for name in names:
        for key in (name, name.replace("_", "-"), "--" + name.replace("_", "-")):
            if form.get(key) not in (None, ""):
                return str(form.get(key)).strip()
    return ""


def _year(form) -> int | None:
    text = _field(form, "year")
    if not text:
        return None
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        raise FormError(f"年度“{text}”无效，请填写 2000 到 2100 之间的年份，例如 2026")
    return int(text)


def _date(form, name: str, label: str) -> dt.date | None:
    text = _field(form, name)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise FormError(f"{label}“{text}”不是有效日期，请写成 2026-11-01 的形式") from None


def _flag(form, name: str) -> bool:
    return _field(form, name).lower() in ("1", "true", "on", "yes", "是")


def export_name(bench) -> str:
    return f"{bench.config.unit}{bench.config.year}年文明单位创建数据包.zip"


def _work(command: str, form) -> Callable[[WebJob], jobs.JobResult]:
    """The call of pipeline.jobs for `command` with the form's options and this 工作台's folders."""
    bench = g.bench
    cfg = bench.config
    if command == "templates":
        return lambda job: jobs.templates(cfg, bench.templates_dir, progress=job.tick)
    if command == "report":
        year, replace = _year(form), _flag(form, "replace")  # replace: the coordinator confirmed (history)
        return lambda job: bench.report_job(job, year, replace)
    if command == "plan":
        year = _year(form)   # the plan of another year (its title, 台账 names, schedule), as `plan --year`
        return lambda job: jobs.plan(cfg, bench.out, progress=job.tick, year=year)
    if command == "halfyear":
        year = _year(form)
        return lambda job: jobs.halfyear(bench.inbox, bench.out, cfg, year, progress=job.tick)
    if command == "bulletin":
        year, as_of = _year(form), _date(form, "date", "通报日期")
        return lambda job: jobs.bulletin(bench.inbox, bench.out, cfg, as_of, year, progress=job.tick)
    if command == "archive":
        year = _year(form)
        return lambda job: jobs.archive(bench.inbox, bench.out, cfg, year, progress=job.tick)
    if command == "collect":
        return _collect(form)
    if command == "notify":
        dry_run = _flag(form, "dry_run")
        from pipeline.web.mailguard import smtp_password
        mailing = _smtp_config(form)
        password = smtp_password(bench, mailing, _field(form, "smtp_password", "password"))  # bound to its server
        return lambda job: jobs.notify(bench.out, mailing, dry_run=dry_run, outbox=bench.out / "outbox",
                                       templates_dir=bench.templates_dir, password=password, progress=job.tick)
    if command == "history":
        source, replace, use = _field(form, "import", "import_dir"), _flag(form, "replace"), _field(form, "use")
        version = int(use) if use.isdigit() and int(use) > 0 else None
        return lambda job: jobs.history(bench.history, source or None, progress=job.tick, replace=replace,
                                        use_version=version)
    if command == "export":
        internal = _flag(form, "internal")
        return lambda job: jobs.export(bench.out, bench.out / export_name(bench), progress=job.tick, config=cfg,
                                       internal=internal)
    raise AssertionError(command)


def _smtp_config(form):
    """The configuration with the SMTP server typed on the page for this session (remembered in memory; the
    lasting place is unit.yaml's mail section), or the configuration as it is."""
    from pipeline import settings
    bench = g.bench
    given = {k: _field(form, k) for k in ("smtp_host", "smtp_port", "smtp_security", "smtp_user")}
    if any(given.values()):
        typed = settings.of(bench.config).mail
        raw = {"smtp_host": typed.smtp_host, "smtp_port": typed.smtp_port, "smtp_security": typed.smtp_security,
               "smtp_user": typed.smtp_user, **{k: v for k, v in given.items() if v}}
        try:
            settings.MailSettings.from_yaml(raw)
        except PipelineError as exc:
            raise FormError(str(exc).replace("unit.yaml 的 mail.", "邮件服务器设置 ")) from None
        bench.smtp_form = raw
    if not bench.smtp_form:
        return bench.config
    typed = settings.of(bench.config)
    mail = dataclasses.replace(typed.mail, **{k: v for k, v in settings.MailSettings.from_yaml(bench.smtp_form)
                                              .__dict__.items() if k in bench.smtp_form})
    return dataclasses.replace(bench.config, unit_settings=dataclasses.replace(typed, mail=mail))


def _collect(form) -> Callable[[WebJob], jobs.JobResult]:
    bench = g.bench
    eml = _field(form, "eml", "eml_dir")
    host = _field(form, "imap_host", "host")
    if bool(eml) == bool(host):
        raise FormError("请填写邮箱服务器地址（IMAP），或存放 .eml 邮件文件的文件夹（二选一）")
    port_text = _field(form, "imap_port", "port")
    if port_text and not (port_text.isdigit() and 0 < int(port_text) < 65536):
        raise FormError(f"端口“{port_text}”无效，请填写 1 到 65535 之间的数字，如 993")
    security = _field(form, "imap_security", "security") or "auto"
    if security not in ("auto", "ssl", "starttls", "none"):
        raise FormError("加密方式只能是 auto、ssl、starttls 或 none")
    since = _date(form, "since", "起始日期")
    target = None
    if host:  # the mailbox set in unit.yaml, or a typed one once confirmed; the password bound to it (mailguard)
        from pipeline.web.mailguard import imap_target
        target = imap_target(bench, host, port_text, _field(form, "imap_user", "user"), security,
                             _field(form, "password", "imap_password"), _flag(form, "confirm_server"))
        # remembered for the next collect (memory only; no password here)
        bench.imap_form = {"imap_host": host, "imap_port": port_text, "imap_user": _field(form, "imap_user", "user"),
                           "imap_folder": _field(form, "imap_folder", "folder"), "imap_security": security}
    options = dict(eml_dir=eml or None, imap_host=target.host if target else None,
                   imap_port=target.port if target else None, imap_user=target.user if target else "",
                   imap_folder=_field(form, "imap_folder", "folder") or "INBOX",
                   imap_security=target.security if target else security, since=since,
                   subject=_field(form, "subject") or None, password=target.password if target else None)

    def work(job: WebJob) -> jobs.JobResult:
        with bench.inbox_lock:  # one writer of the inbox and its manifest at a time
            if target is None:
                return jobs.collect(bench.inbox, bench.config, progress=job.tick, **options)
            from pipeline.web.mailguard import guarded
            return guarded(bench, target, lambda: jobs.collect(bench.inbox, bench.config, progress=job.tick,
                                                                **options))
    return work


def _folder(kind: str) -> Path:
    bench = g.bench
    if kind == "inbox":
        return bench.inbox
    if kind == "templates":
        return bench.templates_dir
    if kind == "history":
        from pipeline.store.history import default_path
        return (bench.history or default_path()).parent
    return bench.out


def _wants_html() -> bool:
    return bool(request.headers.get("HX-Request")) or request.accept_mimetypes.best == "text/html"


def start(command: str):
    """POST /jobs/<command>: {"job": id}; 409 with a Chinese line while another job writes the same folder."""
    if command not in TITLES:
        abort(404)
    title, kind = TITLES[command]
    form = request.form
    if request.is_json:  # the same options as a JSON object, for scripts
        body = request.get_json(silent=True)
        form = {str(k): "" if v is None else str(v) for k, v in body.items()} if isinstance(body, dict) else {}
    try:
        work = _work(command, form)
        job = g.bench.runner.start(command, _folder(kind), title, work)
    except Busy as exc:
        if request.headers.get("HX-Request"):
            return render_template("_message.html", message=str(exc), level="error"), 409
        return jsonify({"error": str(exc), "message": str(exc)}), 409
    except FormError as exc:
        if request.headers.get("HX-Request"):
            return render_template("_message.html", message=str(exc), level="error"), 400
        return jsonify({"error": str(exc), "message": str(exc)}), 400
    if request.headers.get("HX-Request"):
        return render_template("_job.html", job=job)
    return jsonify({"job": job.id})


def status(job_id: str):
    """GET /jobs/<id>: state, progress, outputs, 【待核实】 notes and the message."""
    job = g.bench.runner.get(job_id)
    if job is None:
        if request.headers.get("HX-Request"):
            return render_template("_message.html", message="没有这项任务（工作台重启后以前的任务不再保留）",
                                   level="error"), 404
        return jsonify({"error": "没有这项任务（工作台重启后以前的任务不再保留）"}), 404
    if request.headers.get("HX-Request"):
        return render_template("_job.html", job=job, downloads=_downloads(job))
    return jsonify(job.as_dict())


def _downloads(job: WebJob) -> set[str]:
    """The outputs of a job that /files/<name> serves (those in the output folder)."""
    bench = g.bench
    if Path(job.folder).resolve() != bench.out.resolve():
        return set()
    return {bench.output_name(p) for p in bench.output_files()} & set(job.outputs)


def page():
    """全年工作: a section per job with its options, each started in place and followed until it ends."""
    bench = g.bench
    running = {c: bench.runner.running(_folder(kind)) for c, (_, kind) in TITLES.items()}
    from pipeline import settings
    mail = settings.of(bench.config).mail
    imap = {"imap_host": mail.imap_host, "imap_port": mail.imap_port or "", "imap_user": mail.imap_user,
            "imap_folder": mail.imap_folder, "imap_security": mail.imap_security, **(bench.imap_form or {})}
    smtp = {"smtp_host": mail.smtp_host, "smtp_port": mail.smtp_port, "smtp_security": mail.smtp_security,
            "smtp_user": mail.smtp_user, **(bench.smtp_form or {})}
    return render_template("jobs.html", titles=TITLES, running=running, today=dt.date.today().isoformat(),
                           export_name=export_name(bench), config=bench.config, files=bench.board().files,
                           imap=imap, smtp=smtp, has_imap_password=bool(bench.imap_passwords),
                           department_archives=department_archives(),
                           has_smtp_password=bool(bench.smtp_passwords))


def history_page():
    """历年记录: the years recorded in the history database."""
    result = jobs.history(g.bench.history)
    rows = []
    for record, runs in result.detail or []:
        counts = record.status_counts()
        rows.append({"unit": record.unit, "year": record.year, "catalog": record.catalog,
                     "met": counts.get("达标", 0), "standards": len(record.standards), "ran_at": record.ran_at,
                     "source": "导入" if record.source.startswith("import") else "自查运行", "runs": runs})
    return render_template("history.html", rows=rows, message=result.message)


def templates_zip():
    """Every department's template in one ZIP (each also at /departments/<name>/template)."""
    from pipeline.documents.workbook import workbook_bytes
    from pipeline.templates import build_template, template_filename
    cfg = g.bench.config
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in cfg.department_names:
            zf.writestr(template_filename(cfg, name), workbook_bytes(build_template(cfg, name)))
    buf.seek(0)
    return send_file(buf, mimetype="application/zip", as_attachment=True,
                     download_name=f"{cfg.year}年文明单位创建部门台账模板.zip", max_age=0)


DEPT_ARCHIVES = "各部门工作档案"  # pipeline.documents.archive writes one folder per department here


def department_archives() -> list[str]:
    """The departments' folders of the last 分类档案 (each downloadable as a ZIP)."""
    root = g.bench.out / DEPT_ARCHIVES
    if not root.is_dir() or root.is_symlink():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))


def department_archive(name: str):
    """GET /archive/<folder>.zip: one department's 工作档案 as a ZIP, made on the fly (only folders listed there)."""
    import tempfile
    if name not in department_archives():
        abort(404)
    folder = g.bench.out / DEPT_ARCHIVES / name
    spool = tempfile.SpooledTemporaryFile(max_size=32 << 20)
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                stored = path.suffix.lower() in (".jpg", ".jpeg", ".png", ".pdf", ".zip", ".docx", ".xlsx")
                zf.write(path, f"{name}/{path.relative_to(folder).as_posix()}",
                         compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    spool.seek(0)
    return send_file(spool, mimetype="application/zip", as_attachment=True,
                     download_name=f"{name}-{DEPT_ARCHIVES}.zip", max_age=0)


def withdraw():
    """POST /inbox/withdraw (field `name`): the file moves to inbox/已撤回/, is recorded in manifest.json and read by
    nobody from then on; nothing is deleted."""
    from pipeline.mail.inbox import withdraw as move
    bench = g.bench
    name = request.form.get("name", "")
    with bench.inbox_lock:
        moved = move(bench.inbox, name)
    message = f"已撤回：{name}（已移到收件箱的 {moved}，不再计入）"
    if request.headers.get("HX-Request"):
        return render_template("_message.html", message=message, level="ok"), 200, {"HX-Trigger": "board-changed"}
    return jsonify({"withdrawn": name, "moved_to": moved, "message": message})
