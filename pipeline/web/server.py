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

from werkzeug.serving import BaseWSGIServer, make_server

from pipeline.errors import PipelineError
from pipeline.web.app import create_app
from pipeline.web.security import is_loopback, new_token
from pipeline.web.state import Workbench

DEFAULT_PORT = 8765


@dataclass
class Running:
    server: BaseWSGIServer
    url: str            # what to open, with the token when one is needed
    token: str | None
    bench: Workbench

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.bench.cache.close()  # the reading workers


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
        server = make_server(host, port, app, threaded=True)
    except (OSError, SystemExit) as exc:  # werkzeug exits on a taken port; say it in one line instead
        raise PipelineError(f"无法在 {host}:{port} 启动工作台（{getattr(exc, 'strerror', None) or '端口不可用'}），"
                            "请换一个 --port") from None
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{server.server_port}/"
    if token:
        url += f"?token={token}"
    return Running(server, url, token, bench)


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback (what other computers on the network use)."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    return sorted({str(i[4][0]) for i in infos if not str(i[4][0]).startswith("127.")})


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
        if host in ("0.0.0.0", "::"):
            for address in lan_addresses():
                echo(f"其他电脑：http://{address}:{running.server.server_port}/?token={running.token}")
    echo("在浏览器中打开上面的地址；关闭工作台请在本窗口按 Ctrl+C")
    if open_browser:
        threading.Timer(0.5, webbrowser.open, args=(running.url,)).start()
    try:
        running.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        running.server.server_close()
        running.bench.cache.close()
        echo("工作台已关闭")
