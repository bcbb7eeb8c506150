"""The 工作台's Flask application: routes, the safety checks every request passes, and error pages."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from flask import Flask, Response, g, redirect, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from pipeline.catalog import format_percent
from pipeline.errors import PipelineError
from pipeline.web import views
from pipeline.web.runner import Busy
from pipeline.web.security import TOKEN_HEADER, Guard, cookie_value, token_cookie
from pipeline.web.state import Workbench

log = logging.getLogger("pipeline.web")

STATUS_TEXT = {400: "请求有误", 403: "拒绝访问", 404: "找不到该页面或文件", 405: "不支持该操作",
               409: "正在进行其他工作", 413: "上传的文件太大", 500: "出错了"}

ROUTES = [  # (rule, view, methods)
    ("/", views.board.page, ["GET"]),
    ("/fragments/board", views.board.fragment, ["GET"]),
    ("/api/status", views.board.api_status, ["GET"]),
    ("/upload", views.upload.upload, ["POST"]),
    ("/departments/<name>", views.department.page, ["GET"]),
    ("/departments/<name>/template", views.department.template, ["GET"]),
    ("/departments/<name>/sheet", views.department.sheet, ["GET"]),
    ("/departments/<name>/review", views.department.review, ["POST"]),
    ("/standards", views.standards.page, ["GET"]),
    ("/documents", views.documents.page, ["GET"]),
    ("/documents/generate", views.documents.generate, ["POST"]),
    ("/documents/progress", views.documents.progress, ["GET"]),
    ("/files/<path:name>", views.documents.download, ["GET"]),
    ("/mail", views.mail.page, ["GET"]),
    ("/mail/preview", views.mail.preview, ["POST"]),
    ("/mail/collect", views.mail.collect, ["POST"]),
    ("/mail/send", views.mail.send, ["POST"]),
    ("/mail/reminders/preview", views.mail.reminders_preview, ["POST"]),
    ("/mail/reminders/send", views.mail.reminders_send, ["POST"]),
    ("/settings", views.settings.page, ["GET"]),
    ("/settings", views.settings.save, ["POST"]),
    ("/settings/profile", views.settings.choose_profile, ["POST"]),
    ("/jobs", views.jobs.page, ["GET"]),
    ("/jobs/<command>", views.jobs.start, ["POST"]),
    ("/jobs/<job_id>", views.jobs.status, ["GET"]),
    ("/history", views.jobs.history_page, ["GET"]),
    ("/templates.zip", views.jobs.templates_zip, ["GET"]),
    ("/inbox/withdraw", views.jobs.withdraw, ["POST"]),
    ("/archive/<name>.zip", views.jobs.department_archive, ["GET"]),
]


def create_app(bench: Workbench, host: str = "127.0.0.1", token: str | None = None) -> Flask:
    """The application for one Workbench; `token` is required on every request when given."""
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=bench.limits.max_request_bytes, MAX_FORM_PARTS=10_000,
                      TEMPLATES_AUTO_RELOAD=False, JSON_AS_ASCII=False)
    app.json.ensure_ascii = False
    app.json.sort_keys = False  # the order of scores.json
    app.extensions["workbench"] = bench
    guard = Guard(host, token)
    app.extensions["guard"] = guard
    for rule, view, methods in ROUTES:
        app.add_url_rule(rule, f"{view.__module__.rsplit('.', 1)[-1]}.{view.__name__}_{'_'.join(methods)}",
                         view, methods=methods)

    @app.before_request
    def _guard():
        request.max_content_length = bench.limits.max_request_bytes  # follows edits of unit.yaml
        sock = request.environ.get("werkzeug.socket")
        try:
            local = str(sock.getsockname()[0]) if sock is not None else None
        except OSError:
            local = None
        why = guard.host_refusal(request.host, local)
        if why:
            return _refuse(403, why)
        if guard.token is not None:
            cookie = token_cookie(request.environ.get("SERVER_PORT", ""))
            if not guard.token_ok(request.args.get("token"), request.headers.get(TOKEN_HEADER),
                                  request.cookies.get(cookie)):
                return _refuse(403, "需要访问口令：请用启动工作台时显示的完整地址（含 token=…）打开")
            if request.method == "GET" and request.args.get("token"):
                args = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
                target = request.path + ("?" + urlencode(args) if args else "")
                resp = redirect(target)
                resp.set_cookie(cookie, cookie_value(guard.token), httponly=True, samesite="Strict", path="/")
                return resp
        why = guard.origin_refusal(request.method, request.headers.get("Origin"), request.headers.get("Referer"),
                                   request.headers.get("Sec-Fetch-Site"), request.host_url)
        if why:
            return _refuse(403, why)
        g.bench = bench
        return None

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                                "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
        if resp.mimetype in ("text/html", "application/json"):
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc):
        mb = bench.limits.max_request_bytes // 1048576
        return _refuse(413, f"一次上传的文件总大小超过 {mb} MB 的上限，请分几次上传")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return _refuse(exc.code or 500, STATUS_TEXT.get(exc.code or 500, "请求有误"))

    @app.errorhandler(Busy)
    def _busy(exc: Busy):  # another job of the page is writing the same folder
        return _refuse(409, str(exc))

    @app.errorhandler(PipelineError)
    def _pipeline(exc: PipelineError):
        return _refuse(400, str(exc))

    @app.errorhandler(Exception)
    def _any(exc: Exception):  # never a traceback on the page: one Chinese line there, the details on the console
        log.exception("处理 %s %s 时出错", request.method, request.path)
        return _refuse(500, f"处理请求时出错（{exc.__class__.__name__}），详情见运行工作台的窗口")

    app.add_template_filter(_cndate, "cndate")
    app.add_template_filter(_cntime, "cntime")
    app.add_template_filter(format_percent, "pct")
    app.add_template_filter(_size, "size")

    @app.context_processor
    def _globals():
        if getattr(g, "bench", None) is None:  # a refused request learns nothing about the unit
            return {"unit": "", "year": "", "nav": []}
        return {"unit": bench.config.unit, "year": bench.config.year, "nav": NAV}

    return app


NAV = [("/", "报送情况"), ("/standards", "测评标准"), ("/documents", "生成文件"), ("/jobs", "全年工作"), ("/history", "历年记录"),
       ("/mail", "邮件"), ("/settings", "设置")]


def _cndate(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _cntime(when) -> str:
    return f"{when.month}月{when.day}日 {when.hour:02d}:{when.minute:02d}"


def _size(n: int) -> str:
    return f"{n / 1048576:.1f} MB" if n >= 1048576 else f"{max(1, round(n / 1024))} KB"


def _refuse(status: int, message: str):
    from pipeline.addresses import visible
    message = visible(message)  # a typed value quoted in a message shows its control characters as \x1b
    if request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/"):
        return {"error": message}, status
    if request.headers.get("HX-Request"):
        return render_template("_message.html", message=message, level="error"), status
    return render_template("error.html", status=status, title=STATUS_TEXT.get(status, "出错了"),
                           message=message), status
