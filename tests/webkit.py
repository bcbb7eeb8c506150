"""Helpers for the 工作台 tests: a real server on a free loopback port, raw HTTP requests, multipart bodies."""

from __future__ import annotations

import http.client
import re
import json
import shutil
import threading
import uuid
from urllib.parse import quote
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "inbox"
SOME = ["办公室-2026年文明单位创建台账.xlsx", "工会-2026年文明单位创建台账.xlsx", "普及部-2026年文明单位创建台账.xlsx",
        "工会-2026年文明单位创建台账（初稿）.xlsx"]


def make_folders(tmp: Path, files=SOME, workbench: dict | None = None) -> tuple[Path, Path, Path]:
    """An inbox holding some of the example workbooks, an empty output folder, a copy of the config."""
    inbox, out, config = tmp / "inbox", tmp / "output", tmp / "config"
    inbox.mkdir(parents=True)
    for name in files:
        shutil.copy2(EXAMPLES / name, inbox / name)
    shutil.copytree(ROOT / "config", config)
    if workbench:
        text = (config / "unit.yaml").read_text(encoding="utf-8")
        for key, value in workbench.items():  # the shipped file has the `workbench` section: change its values
            text, n = re.subn(rf"(?m)^  {key}: *\S+", f"  {key}: {value}", text)
            assert n == 1, key
        (config / "unit.yaml").write_text(text, encoding="utf-8")
    return inbox, out, config


@contextmanager
def running(tmp: Path, files=SOME, token: str | None = None, workbench: dict | None = None) -> Iterator:
    """A 工作台 serving on 127.0.0.1 (free port) in a thread, stopped afterwards."""
    from pipeline.web.server import start
    inbox, out, config = make_folders(tmp, files, workbench)
    srv = start(inbox, out, config, host="127.0.0.1", port=0, token=token, templates_dir=ROOT / "input_templates")
    thread = threading.Thread(target=srv.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.stop()
        thread.join(timeout=10)


class Client:
    def __init__(self, port: int, token: str | None = None) -> None:
        self.port, self.token = port, token
        self.origin = f"http://127.0.0.1:{port}"

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            hdrs = {"Host": f"127.0.0.1:{self.port}"}
            if method != "GET":
                hdrs["Origin"] = self.origin
            if self.token:
                hdrs["X-Wenming-Token"] = self.token
            hdrs.update(headers or {})
            hdrs = {k: v for k, v in hdrs.items() if v is not None}
            conn.request(method, quote(path, safe="/%?=&;:+,@!$'()*~-._"), body=body, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def get(self, path: str, **headers):
        return self.request("GET", path, headers=headers)

    def json(self, path: str):
        status, _, body = self.get(path)
        assert status == 200, body.decode()
        return json.loads(body)

    def upload(self, files: list[tuple[str, bytes]], headers: dict | None = None, accept_json: bool = True):
        body, ctype = multipart(files)
        hdrs = {"Content-Type": ctype}
        if accept_json:
            hdrs["Accept"] = "application/json"
        hdrs.update(headers or {})
        return self.request("POST", "/upload", body, hdrs)

    def post_form(self, path: str, fields: dict, headers: dict | None = None):
        from urllib.parse import urlencode
        hdrs = {"Content-Type": "application/x-www-form-urlencoded"}
        hdrs.update(headers or {})
        return self.request("POST", path, urlencode(fields).encode(), hdrs)


def multipart(files: list[tuple[str, bytes]], field: str = "files") -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, data in files:
        quoted = name.replace('"', "%22")
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{quoted}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"
