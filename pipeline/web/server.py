"""Start the 工作台: a threaded local HTTP server (werkzeug), loopback unless told otherwise."""

from __future__ import annotations

import errno
import logging
import socket
import threading
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from urllib.parse import quote

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from pipeline.errors import PipelineError
from pipeline.web.app import create_app
from pipeline.web.security import is_loopback, lan_addresses, new_token
from pipeline.web.state import Workbench

DEFAULT_PORT = 8765
HEADER_SECONDS = 10.0   # the request line and headers must arrive within this time (slowloris)
IDLE_SECONDS = 30.0     # a connection silent this long (between requests, or mid-body) is closed
BODY_SECONDS = 30.0     # a request body may take this long, plus its size at BODY_MIN_RATE (slow POST)
BODY_MIN_RATE = 20 * 1024


class _CountedInput:
    """The request body stream, counting what the application reads: once the whole body is in, the body's
    watchdog is called off (the application may then take as long as its work needs)."""

    def __init__(self, raw, length: int, done) -> None:
        self._raw, self._left, self._done = raw, length, done
        self.finished = length <= 0

    def _seen(self, n: int) -> None:
        self._left -= n
        if self._left <= 0 and not self.finished:
            self.finished = True
            self._done()

    def read(self, *args):
        data = self._raw.read(*args)
        self._seen(len(data))
        return data

    def read1(self, *args):
        data = self._raw.read1(*args)
        self._seen(len(data))
        return data

    def readline(self, *args):
        data = self._raw.readline(*args)
        self._seen(len(data))
        return data

    def readinto(self, buffer):
        n = self._raw.readinto(buffer)
        self._seen(n or 0)
        return n

    def __getattr__(self, name):
        return getattr(self._raw, name)


class TimedHandler(WSGIRequestHandler):
    """werkzeug's handler with the limits a browser never meets and a slow attacker always does: the request
    line and headers within `header_seconds` of waiting for them (a watchdog shuts the socket down, however
    slowly the bytes trickle in); the body within `body_seconds` plus its size at `body_min_rate`; and no read
    or write idle for more than `timeout` (the socket timeout, which also ends idle keep-alive connections)."""

    header_seconds = HEADER_SECONDS
    body_seconds = BODY_SECONDS
    body_min_rate = BODY_MIN_RATE
    timeout = IDLE_SECONDS   # socketserver.StreamRequestHandler sets it on the connection

    def handle_one_request(self) -> None:
        self._headers_read = False
        self._body: _CountedInput | None = None
        self._body_timer: threading.Timer | None = None
        raw = self.rfile
        self._header_timer = self._watch(self.header_seconds, lambda: not self._headers_read)
        try:
            super().handle_one_request()
        finally:
            self._header_timer.cancel()
            if self._body_timer is not None:
                self._body_timer.cancel()
            self.rfile = raw

    def parse_request(self) -> bool:
        ok = super().parse_request()   # reads the headers
        self._header_timer.cancel()
        self._headers_read = True
        if ok:
            try:
                length = max(0, int(self.headers.get("Content-Length") or 0))
            except ValueError:
                length = 0
            chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
            if length or chunked:
                seconds = self.body_seconds + (length or 200 * 1048576) / self.body_min_rate
                body = self._body = _CountedInput(self.rfile, length if not chunked else 1 << 62, lambda: None)
                self._body_timer = self._watch(seconds, lambda: not body.finished)
                body._done = self._body_timer.cancel
                self.rfile = body
        return ok

    def _watch(self, seconds: float, still_waiting) -> threading.Timer:
        """A watchdog: after `seconds`, if `still_waiting()`, the connection is shut down."""
        def cut() -> None:
            if still_waiting():
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        timer = threading.Timer(seconds, cut)
        timer.daemon = True
        timer.start()
        return timer


@dataclass
class Running:
    server: BaseWSGIServer
    url: str            # what to open, with the token when one is needed
    token: str | None
    bench: Workbench

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start(inbox: Path, out: Path, config_dir: Path | None = None, host: str = "127.0.0.1",
          port: int = DEFAULT_PORT, token: str | None = None, templates_dir: Path | None = None) -> Running:
    """Bind the server (a free port when `port` is taken, or when it is 0) without serving yet."""
    if not is_loopback(host) and not token:
        token = new_token()   # another address is reachable from the network: a token is required
    bench = Workbench(inbox, out, config_dir, templates_dir)
    app = create_app(bench, host, token)
    if port and not _port_free(host, port):
        port = 0  # the default is taken (another 工作台 or program): any free port
    try:
        server = make_server(host, port, app, threaded=True, request_handler=_handler())
    except (OSError, SystemExit) as exc:  # werkzeug exits on a taken port; say it in one line instead
        raise PipelineError(f"无法在 {host}:{port} 启动工作台（{getattr(exc, 'strerror', None) or '端口不可用'}），"
                            "请换一个 --port") from None
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{server.server_port}/"
    if token:
        url += f"?token={quote(token, safe='')}"
    return Running(server, url, token, bench)


def _handler() -> type[TimedHandler]:
    """A handler class of its own per server (werkzeug sets protocol_version on the class it is given)."""
    return type("Handler", (TimedHandler,), {})


def lan_urls(host: str, port: int, token: str | None) -> list[str]:
    """The addresses other computers on the network open, with the token (for a server on 0.0.0.0 or ::)."""
    if host not in ("0.0.0.0", "::"):
        return []
    query = f"?token={quote(token, safe='')}" if token else ""
    return [f"http://{f'[{a}]' if ':' in a else a}:{port}/{query}" for a in lan_addresses()
            if host == "::" or ":" not in a]


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.errno != errno.EADDRINUSE
    return True


def serve(inbox: Path, out: Path, config_dir: Path | None = None, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
          open_browser: bool = True, token: str | None = None, echo: Callable[[str], None] = print) -> None:
    """Serve until Ctrl-C; prints the address and opens the default browser unless told not to."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    running = start(inbox, out, config_dir, host, port, token)
    echo(f"工作台已启动：{running.url}")
    if running.token:
        echo(f"访问口令：{running.token}（同一网络中的其他电脑须用含口令的完整地址打开）")
        urls = lan_urls(host, running.server.server_port, running.token)
        for url in urls:
            echo(f"其他电脑：{url}")
        if host in ("0.0.0.0", "::") and not urls:
            echo("未找到本机的局域网地址；其他电脑请用本机的 IP 地址和上面的端口、口令打开")
    echo("在浏览器中打开上面的地址；关闭工作台请在本窗口按 Ctrl+C")
    if open_browser:
        threading.Timer(0.5, webbrowser.open, args=(running.url,)).start()
    try:
        running.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        running.server.server_close()
        echo("工作台已关闭")
