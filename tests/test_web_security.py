"""The 工作台 against a hostile network and a careless form: tokens in any script, a cookie per port, slow and idle
connections closed, LAN addresses on 0.0.0.0, IMAP passwords bound to their server, no port-probing oracle,
addresses checked, settings saved field by field. Real servers on loopback, raw sockets where it matters."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from webkit import SOME, Client, running

from pipeline.web.security import lan_addresses

TOKEN = "文明口令"


def _text(body: bytes) -> str:
    text = body.decode("utf-8")
    assert "Traceback" not in text
    return text


# ---------------------------------------------------------------- tokens and cookies

def test_a_non_ascii_token_works_by_query_header_and_cookie(tmp_path):
    with running(tmp_path, files=SOME[:1], token=TOKEN) as s:
        port = s.server.server_port
        assert s.url.endswith("?token=" + quote(TOKEN, safe=""))  # the printed address is percent-encoded
        anon = Client(port)
        # the printed address: a cookie named for this port, then the clean address
        status, headers, _ = anon.get("/?token=" + quote(TOKEN, safe=""))
        assert status == 302 and headers["Location"].endswith("/")
        cookie = headers["Set-Cookie"].split(";")[0]
        assert cookie == f"wm_token_{port}=" + quote(TOKEN, safe="")
        assert anon.get("/", Cookie=cookie)[0] == 200
        # the header, as raw UTF-8 bytes and percent-encoded
        assert anon.get("/api/status", **{"X-Wenming-Token": TOKEN.encode("utf-8")})[0] == 200
        assert anon.get("/api/status", **{"X-Wenming-Token": quote(TOKEN)})[0] == 200
        # wrong tokens, in any script, are refused with the Chinese line, never a 500
        for wrong in ("文明口令2", "文明", "x", quote("错误口令")):
            status, _, body = anon.get("/api/status", **{"X-Wenming-Token": wrong.encode("utf-8")})
            assert status == 403 and "访问口令" in _text(body)
            status, _, body = anon.get("/?token=" + quote(wrong, safe=""))
            assert status == 403
            assert anon.get("/", Cookie=f"wm_token_{port}=" + quote(wrong, safe=""))[0] == 403
        status, _, body = anon.get("/", Cookie=f"wm_token_{port}=\xff\xfe")
        assert status == 403
        # a cookie for another port's 工作台 opens nothing here
        assert anon.get("/", Cookie=f"wm_token_{port + 1}=" + quote(TOKEN, safe=""))[0] == 403
        assert anon.get("/", Cookie="wenming_token=" + quote(TOKEN, safe=""))[0] == 403
        # a state-changing request with the token in a header works
        status, _, body = Client(port, token=quote(TOKEN)).upload([("工会-x.xlsx", b"PK")])
        assert status == 200, body


# ---------------------------------------------------------------- slow and idle connections

@contextmanager
def _limits(server, header: float, idle: float):
    cls = server.RequestHandlerClass
    cls.header_seconds, cls.timeout = header, idle
    yield


def _closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed `sock` (recv gives b'' or a reset), or None if still open."""
    start = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - start < seconds:
        try:
            data = sock.recv(4096)
        except socket.timeout:
            continue
        except OSError:
            return time.monotonic() - start
        if data == b"":
            return time.monotonic() - start
    return None


def _trickle(sock: socket.socket, byte: bytes, every: float = 0.25, most: int = 40) -> tuple[bool, float]:
    """Send one byte every `every` seconds until the server closes the connection: (closed, seconds taken)."""
    start = time.monotonic()
    for _ in range(most):
        try:
            sock.sendall(byte)
            sock.settimeout(every)
            if sock.recv(4096) == b"":
                return True, time.monotonic() - start
        except socket.timeout:
            continue
        except OSError:
            return True, time.monotonic() - start
    return False, time.monotonic() - start


def test_slowloris_headers_are_cut_off(tmp_path):
    with running(tmp_path, files=SOME[:1]) as s, _limits(s.server, header=1.5, idle=30):
        port = s.server.server_port
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            closed, took = _trickle(sock, b"X")  # one header byte every 0.25 s: each read succeeds, the whole never ends
        assert closed and took < 4, took
        # the server still answers others
        assert Client(port).get("/api/status")[0] == 200


def test_a_trickled_request_body_is_cut_off(tmp_path, monkeypatch):
    """Headers in time, then the body one byte at a time: the body's own deadline closes the connection."""
    with running(tmp_path, files=SOME[:1]) as s, _limits(s.server, header=30, idle=30):
        cls = s.server.RequestHandlerClass
        cls.body_seconds, cls.body_min_rate = 1.5, 1 << 30
        port = s.server.server_port
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(f"POST /settings HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n"
                         "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n".encode())
            closed, took = _trickle(sock, b"y")
        assert closed and took < 5, took
        # a body that arrives in time is served, and an application slower than the body's deadline is not cut off
        from pipeline.web.views import settings as view
        real = view.update_settings

        def slow(*args, **kwargs):
            time.sleep(2.5)
            return real(*args, **kwargs)
        monkeypatch.setattr(view, "update_settings", slow)
        c = Client(port)
        status, _, body = c.post_form("/settings", {"deadline": "2026-11-20"})
        assert status == 200, body


def test_idle_connections_are_closed(tmp_path):
    with running(tmp_path, files=SOME[:1]) as s, _limits(s.server, header=30, idle=1.0):
        port = s.server.server_port
        with socket.create_connection(("127.0.0.1", port)) as silent:  # connects, never sends
            took = _closed_within(silent, 6)
        assert took is not None and took < 4
        with socket.create_connection(("127.0.0.1", port)) as keep:  # a keep-alive connection after one request
            keep.sendall(f"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            keep.settimeout(10)
            first = keep.recv(65536)
            assert first.startswith(b"HTTP/1.1 200")
            took = _closed_within(keep, 6)
        assert took is not None and took < 4
        # a half-sent body stops too (idle mid-body)
        with socket.create_connection(("127.0.0.1", port)) as half:
            half.sendall(f"POST /settings HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n"
                         "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nyear=".encode())
            took = _closed_within(half, 6)
        assert took is not None and took < 4


# ---------------------------------------------------------------- 0.0.0.0: LAN addresses

def test_lan_address_is_allowed_with_the_token_and_printed(tmp_path):
    lan = [a for a in lan_addresses() if ":" not in a]
    if not lan:
        pytest.skip("本机没有局域网 IPv4 地址")
    from webkit import make_folders

    from pipeline.web.server import lan_urls, start
    inbox, out, config = make_folders(tmp_path, SOME[:1])
    srv = start(inbox, out, config, host="0.0.0.0", port=0, token="t0ken")
    thread = threading.Thread(target=srv.server.serve_forever, daemon=True)
    thread.start()
    try:
        port = srv.server.server_port
        urls = lan_urls("0.0.0.0", port, srv.token)
        assert f"http://{lan[0]}:{port}/?token=t0ken" in urls
        import http.client
        for address, token, want in ((lan[0], "t0ken", 200), (lan[0], None, 403), ("127.0.0.1", "t0ken", 200)):
            conn = http.client.HTTPConnection(address, port, timeout=30)
            headers = {"Host": f"{address}:{port}"}
            if token:
                headers["X-Wenming-Token"] = token
            conn.request("GET", "/api/status", headers=headers)
            assert conn.getresponse().status == want, (address, token)
            conn.close()
        # a name that is not this machine's stays refused (DNS rebinding)
        conn = http.client.HTTPConnection(lan[0], port, timeout=30)
        conn.request("GET", "/api/status", headers={"Host": f"evil.example:{port}", "X-Wenming-Token": "t0ken"})
        assert conn.getresponse().status == 403
        conn.close()
    finally:
        srv.stop()
        thread.join(timeout=10)


def test_serve_prints_the_lan_addresses(tmp_path, monkeypatch):
    lan = [a for a in lan_addresses() if ":" not in a]
    if not lan:
        pytest.skip("本机没有局域网 IPv4 地址")
    from webkit import make_folders

    from pipeline.web import server
    inbox, out, config = make_folders(tmp_path, SOME[:1])
    lines: list[str] = []

    def stop_at_once(self, *a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(server.BaseWSGIServer, "serve_forever", stop_at_once)
    server.serve(inbox, out, config, host="0.0.0.0", port=0, open_browser=False, token=TOKEN, echo=lines.append)
    text = "\n".join(lines)
    assert f"其他电脑：http://{lan[0]}:" in text and quote(TOKEN, safe="") in text


# ---------------------------------------------------------------- IMAP: the password stays with its server

class RecordingIMAP:
    """A plain IMAP server on loopback that records every line it receives; LOGIN succeeds only with
    `password`, an empty mailbox follows."""

    def __init__(self, password: str | None = "secret-A"):
        self.password = password
        self.lines: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        self.listener.settimeout(0.2)
        while not self.stop:
            try:
                conn, _ = self.listener.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        f = conn.makefile("rwb")
        try:
            f.write(b"* OK IMAP4rev1 ready\r\n")
            f.flush()
            while True:
                line = f.readline()
                if not line:
                    return
                self.lines.append(line)
                tag, _, rest = line.decode("utf-8", "replace").strip().partition(" ")
                cmd = rest.split(" ")[0].upper()
                if cmd == "CAPABILITY":
                    f.write(f"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n{tag} OK done\r\n".encode())
                elif cmd == "LOGIN":
                    ok = self.password is not None and f'"{self.password}"' in rest or (
                        self.password is not None and rest.endswith(" " + self.password))
                    f.write(f"{tag} {'OK' if ok else 'NO [AUTHENTICATIONFAILED]'} login\r\n".encode())
                elif cmd == "SELECT" or cmd == "EXAMINE":
                    f.write(f"* 0 EXISTS\r\n{tag} OK [READ-ONLY] done\r\n".encode())
                elif cmd == "UID":
                    f.write(f"* SEARCH\r\n{tag} OK done\r\n".encode())
                elif cmd == "LOGOUT":
                    f.write(f"* BYE\r\n{tag} OK bye\r\n".encode())
                    f.flush()
                    return
                else:
                    f.write(f"{tag} BAD unknown\r\n".encode())
                f.flush()
        except OSError:
            pass
        finally:
            conn.close()

    def logins(self) -> list[str]:
        return [line.decode("utf-8", "replace").strip() for line in self.lines if b" LOGIN " in line.upper()]

    def close(self):
        self.stop = True
        self.listener.close()


def _mail_settings(config: Path, **mail) -> None:
    path = config / "unit.yaml"
    unit = yaml.safe_load(path.read_text(encoding="utf-8"))
    unit["mail"].update(mail)
    path.write_text(yaml.safe_dump(unit, allow_unicode=True), encoding="utf-8")


@contextmanager
def _two_mailboxes(tmp_path: Path):
    """A 工作台 whose unit.yaml names mailbox `a` (user coord, password secret-A), and another mailbox `b`."""
    a, b = RecordingIMAP("secret-A"), RecordingIMAP(None)
    try:
        with running(tmp_path, files=SOME[:1]) as s:
            _mail_settings(s.bench.config_dir, imap_host="127.0.0.1", imap_port=a.port, imap_security="none",
                           imap_user="coord", timeout_seconds=2)
            s.bench.reload_config()
            yield s, Client(s.server.server_port), a, b
    finally:
        a.close()
        b.close()


def test_a_remembered_password_goes_only_to_its_host_port_and_user(tmp_path):
    with _two_mailboxes(tmp_path) as (s, c, a, b):
        # the configured server, password typed once: it logs in and is remembered for (host, port, user)
        status, _, body = c.post_form("/mail/collect", {"host": "", "password": "secret-A"})
        assert status == 200 and "新邮件 0 封" in _text(body), _text(body)
        status, _, body = c.post_form("/mail/collect", {"host": "127.0.0.1", "port": str(a.port)})
        assert status == 200 and "新邮件 0 封" in _text(body)
        assert [x.endswith('"secret-A"') or x.endswith(" secret-A") for x in a.logins()] == [True, True]
        # another user on the same server: the remembered password is not offered
        status, _, body = c.post_form("/mail/collect", {"host": "127.0.0.1", "port": str(a.port), "user": "other"})
        assert status == 400 and "登录失败" in _text(body)
        assert "secret-A" not in a.logins()[-1] and "other" in a.logins()[-1]
        # another server (another port), confirmed: never the remembered password
        status, _, body = c.post_form("/mail/collect", {"host": "127.0.0.1", "port": str(b.port), "user": "coord",
                                                        "security": "none", "confirm_server": "1"})
        assert status == 400 and "登录失败" in _text(body)
        assert b.logins(), "the other server was asked"
        assert not any(b"secret-A" in line for line in b.lines)
        # another host name for the same machine is another server too
        status, _, body = c.post_form("/mail/collect", {"host": "localhost", "port": str(a.port), "user": "coord",
                                                        "security": "none", "confirm_server": "1"})
        assert status == 400
        assert sum("secret-A" in x for x in a.logins()) == 2


def test_collect_connects_only_to_the_configured_server_unless_confirmed(tmp_path):
    other = RecordingIMAP(None)
    try:
        with running(tmp_path, files=SOME[:1]) as s:
            c = Client(s.server.server_port)
            # nothing configured: a typed server needs the confirmation, and is not contacted before it
            status, _, body = c.post_form("/mail/collect", {"host": "127.0.0.1", "port": str(other.port),
                                                            "security": "none", "password": "pw"},
                                          headers={"HX-Request": "true"})
            text = _text(body)
            assert status == 400 and "不是设置中填写的服务器" in text and "确认连接此服务器" in text
            assert "<html" not in text  # in place, for the page's htmx target
            time.sleep(0.3)
            assert other.lines == []
            _mail_settings(s.bench.config_dir, imap_host="imap.unit.example", imap_port=993)
            s.bench.reload_config()
            status, _, body = c.post_form("/mail/collect", {"host": "127.0.0.1", "port": str(other.port),
                                                            "security": "none", "password": "pw"})
            assert status == 400 and "imap.unit.example:993" in _text(body)
            time.sleep(0.3)
            assert other.lines == []
            status, _, body = c.post_form("/mail/collect", {"host": "127.0.0.1", "port": str(other.port),
                                                            "security": "none", "password": "pw",
                                                            "confirm_server": "1"})
            assert status == 400 and "登录失败" in _text(body)
            assert other.logins()
    finally:
        other.close()


def test_every_connection_failure_reads_alike(tmp_path):
    """Closed port, open port that never answers, open port speaking HTTP, IMAP refusing the login: one line."""
    closed = socket.create_server(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    silent = socket.create_server(("127.0.0.1", 0))          # accepts (backlog), never answers
    http_like = socket.create_server(("127.0.0.1", 0))

    def speak_http():
        http_like.settimeout(0.2)
        while True:
            try:
                conn, _ = http_like.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            conn.close()
    threading.Thread(target=speak_http, daemon=True).start()
    imap = RecordingIMAP("right")
    try:
        with running(tmp_path, files=SOME[:1]) as s:
            _mail_settings(s.bench.config_dir, timeout_seconds=1)
            s.bench.reload_config()
            c = Client(s.server.server_port)
            answers = {}
            for label, port in (("closed", closed_port), ("silent", silent.getsockname()[1]),
                                ("http", http_like.getsockname()[1]), ("imap", imap.port)):
                for security in ("none", "auto"):
                    status, _, body = c.post_form("/mail/collect", {"host": "127.0.0.1", "port": str(port),
                                                                    "user": "u", "password": "wrong",
                                                                    "security": security, "confirm_server": "1"},
                                                  headers={"HX-Request": "true"})
                    answers[(label, security)] = (status, _text(body).replace(f":{port}", ":PORT"))
            assert len(set(answers.values())) == 1, answers
            status, text = next(iter(answers.values()))
            assert status == 400 and "无法连接邮箱服务器 127.0.0.1:PORT 或登录失败" in text
    finally:
        silent.close()
        http_like.close()
        imap.close()


# ---------------------------------------------------------------- addresses and settings

def test_addresses_with_control_characters_are_refused_and_idn_is_encoded(tmp_path):
    with running(tmp_path, files=SOME[:1]) as s:
        c = Client(s.server.server_port)
        path = s.bench.config_dir / "unit.yaml"
        before = path.read_text(encoding="utf-8")
        for bad in ("gh\x1b[31m@unit.cn", "gh\x00@unit.cn", "gh@unit.cn\r\nBcc: spy@evil.example",
                    "gh@unit.cn\nx", "gh\u202e@unit.cn", "张三@unit.cn", "a@b@unit.cn"):
            status, _, body = c.post_form("/settings", {"email-工会": bad})
            text = _text(body)
            assert status == 400 and "工会的邮箱" in text and "格式不对" in text, (bad, text)
            assert "\x1b" not in text and "\x00" not in text
            assert path.read_text(encoding="utf-8") == before
        status, _, body = c.post_form("/settings", {"email-工会": "gonghui@例子.中国", "email-团委": "tw@unit.cn"})
        assert status == 200, _text(body)
        unit = yaml.safe_load(path.read_text(encoding="utf-8"))
        emails = {d["name"]: d.get("email") for d in unit["departments"]}
        assert emails["工会"] == "gonghui@xn--fsqu00a.xn--fiqs8s" and emails["团委"] == "tw@unit.cn"
        # the preview shows the encoded address; no 500
        from builders import report as run_report
        run_report(s.bench.inbox, s.bench.out, "--config", str(s.bench.config_dir))
        status, _, body = c.post_form("/mail/preview", {})
        text = _text(body)
        assert status == 200 and "gonghui@xn--fsqu00a.xn--fiqs8s" in text
    # an address with ESC written into unit.yaml by hand is one Chinese line naming the department, at load
    from pipeline.catalog import load_config
    from pipeline.errors import ConfigError
    unit = yaml.safe_load(path.read_text(encoding="utf-8"))
    unit["departments"][0]["email"] = "a\x1b@unit.cn"
    path.write_text(yaml.safe_dump(unit, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unit.yaml 第\d+行：.+的邮箱含有不可见的控制字符"):
        load_config(s.bench.config_dir)
    unit["departments"][0]["email"] = ""
    unit["mail"]["sender"] = "coord@例子.中国"  # the sender too: encoded at load, or refused
    path.write_text(yaml.safe_dump(unit, allow_unicode=True), encoding="utf-8")
    assert load_config(s.bench.config_dir).settings["mail"]["sender"] == "coord@xn--fsqu00a.xn--fiqs8s"
    unit["mail"]["sender"] = "coord@unit.cn\r\nBcc: spy@evil.example"
    path.write_text(yaml.safe_dump(unit, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"mail.sender（发件邮箱）含有不可见的控制字符"):
        load_config(s.bench.config_dir)


def test_a_settings_save_changes_only_the_fields_it_carries(tmp_path):
    with running(tmp_path, files=SOME[:1]) as s:
        c = Client(s.server.server_port)
        path = s.bench.config_dir / "unit.yaml"
        status, _, body = c.post_form("/settings", {"year": "2026", "deadline": "2026-11-20", "report_date": "",
                                                    "email-工会": "gh@unit.cn", "email-团委": "tw@unit.cn"})
        assert status == 200, _text(body)
        before = yaml.safe_load(path.read_text(encoding="utf-8"))
        status, _, body = c.post_form("/settings", {"deadline": "2026-11-25"})  # no year, no address fields
        assert status == 200, _text(body)
        after = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert str(after["deadline"]) == "2026-11-25"
        assert after["year"] == before["year"] == 2026
        assert {d["name"]: d.get("email") for d in after["departments"]} == \
            {d["name"]: d.get("email") for d in before["departments"]}
        assert {d["name"]: d.get("email") for d in after["departments"]}["工会"] == "gh@unit.cn"
        status, _, body = c.post_form("/settings", {"email-团委": ""})  # a field sent blank is cleared
        after = yaml.safe_load(path.read_text(encoding="utf-8"))
        emails = {d["name"]: d.get("email") for d in after["departments"]}
        assert status == 200 and emails["团委"] == "" and emails["工会"] == "gh@unit.cn"
        assert str(after["deadline"]) == "2026-11-25"


def test_collect_form_values_never_give_a_500(tmp_path):
    """Hosts that are not host names, ports out of range, a Chinese password: one Chinese line each, in place."""
    with running(tmp_path, files=SOME[:1]) as s:
        c = Client(s.server.server_port)
        cases = [({"host": "a" * 64 + ".example.com"}, "邮箱服务器地址"),
                 ({"host": "imap\x1b[31m.example.com"}, "邮箱服务器地址"),
                 ({"host": "http://imap.example.com/"}, "邮箱服务器地址"),
                 ({"host": "imap.example.com", "port": "70000"}, "端口"),
                 ({"host": "imap.example.com", "port": "-1"}, "端口"),
                 ({"host": "imap.example.com", "port": "99\x1b[2J"}, "端口"),
                 ({"host": "imap.example.com", "security": "tls1.0"}, "加密方式"),
                 ({"host": "imap.example.com", "password": "密码123", "confirm_server": "1"}, "不支持中文"),
                 ({"host": "imap.example.com", "user": "张三", "confirm_server": "1"}, "不支持中文"),
                 ({"host": "例子.中国"}, "xn--fsqu00a.xn--fiqs8s:993 不是设置中填写的服务器")]
        for fields, expected in cases:
            status, _, body = c.post_form("/mail/collect", fields, headers={"HX-Request": "true"})
            text = _text(body)
            assert status == 400 and expected in text and "\x1b" not in text, (fields, text)


def test_the_jobs_collect_endpoint_follows_the_same_rules(tmp_path):
    """POST /jobs/collect: only the configured server unless confirmed, the password bound to its server and
    user, every connection failure the same line."""
    closed = socket.create_server(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    with _two_mailboxes(tmp_path) as (s, c, a, b):
        common = {"imap_host": "127.0.0.1", "imap_security": "none", "imap_user": "coord"}
        status, state = _job_run(c, "collect", {**common, "imap_port": str(a.port), "password": "secret-A"})
        assert status == 200 and state["state"] == "done", state
        status, state = _job_run(c, "collect", {**common, "imap_port": str(a.port)})  # remembered
        assert state["state"] == "done", state
        assert sum("secret-A" in x for x in a.logins()) == 2
        status, state = _job_run(c, "collect", {**common, "imap_port": str(b.port)})
        assert status == 400 and "不是设置中填写的服务器" in state["error"]
        assert b.lines == []
        status, state = _job_run(c, "collect", {**common, "imap_port": str(b.port), "confirm_server": "1"})
        assert state["state"] == "failed" and b.logins() and not any(b"secret-A" in x for x in b.lines)
        failed = {}
        for port in (b.port, closed_port):
            status, state = _job_run(c, "collect", {**common, "imap_port": str(port), "imap_user": "u",
                                                    "password": "pw", "confirm_server": "1"})
            failed[port] = state["message"].replace(f":{port}", ":PORT")
        assert len(set(failed.values())) == 1 and "无法连接邮箱服务器 127.0.0.1:PORT 或登录失败" in failed[b.port]


@contextmanager
def _smtp_with_auth(seen: list):
    """A real SMTP server on loopback that accepts AUTH without TLS and records every (user, password)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from mailkit import Recorder

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)
    from builders import free_port
    port = free_port()
    controller = Controller(Recorder(), hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def test_a_remembered_smtp_password_goes_only_to_its_server(tmp_path):
    """全年工作's notify: a password typed for one SMTP server is not offered to another typed later, and the
    environment's password goes only to the server set in unit.yaml."""
    from webkit import make_folders  # noqa: F401

    from builders import run
    seen_a, seen_b = [], []
    with _smtp_with_auth(seen_a) as port_a, _smtp_with_auth(seen_b) as port_b, \
            running(tmp_path, files=SOME[:1]) as s:
        unit_path = s.bench.config_dir / "unit.yaml"
        unit = yaml.safe_load(unit_path.read_text(encoding="utf-8"))
        for i, d in enumerate(unit["departments"]):
            d["email"] = f"dept{i}@unit.cn"
        unit["mail"].update(sender="coord@unit.cn", smtp_host="127.0.0.1", smtp_port=port_a, smtp_security="none",
                            smtp_user="coord", timeout_seconds=5)
        unit_path.write_text(yaml.safe_dump(unit, allow_unicode=True), encoding="utf-8")
        s.bench.reload_config()
        assert run("report", "--inbox", str(s.bench.inbox), "--out", str(s.bench.out), "--config",
                   str(s.bench.config_dir), "--silent").exit_code == 0
        c = Client(s.server.server_port)
        status, state = _job_run(c, "notify", {"smtp_password": "secret-A"})
        assert state["state"] == "done", state
        assert seen_a and all(p == "secret-A" for _, p in seen_a)
        # another server typed on the page, no password typed: secret-A is not offered to it
        sent_log = s.bench.out / "notify-sent.json"
        sent_log.unlink()  # so the notices go out again, to the other server
        status, state = _job_run(c, "notify", {"smtp_host": "127.0.0.1", "smtp_port": str(port_b),
                                               "smtp_security": "none", "smtp_user": "coord"})
        assert seen_b and all(p != "secret-A" for _, p in seen_b), (seen_b, state)
        seen_b.clear()
        sent_log.unlink(missing_ok=True)
        # the environment's password is for the configured server only
        import os
        os.environ["WENMING_SMTP_PASSWORD"] = "env-secret"
        try:
            _job_run(c, "notify", {"smtp_host": "127.0.0.1", "smtp_port": str(port_b), "smtp_security": "none",
                                   "smtp_user": "coord"})
        finally:
            del os.environ["WENMING_SMTP_PASSWORD"]
        assert seen_b and all(p not in ("secret-A", "env-secret") for _, p in seen_b), seen_b


def _job_run(c: Client, command: str, fields: dict) -> tuple[int, dict]:
    status, _, body = c.post_form(f"/jobs/{command}", fields, headers={"Accept": "application/json"})
    data = json.loads(body)
    if status != 200:
        return status, data
    for _ in range(300):
        state = c.json(f"/jobs/{data['job']}")
        if state["state"] != "running":
            return status, state
        time.sleep(0.1)
    raise AssertionError(f"the {command} job did not end")
