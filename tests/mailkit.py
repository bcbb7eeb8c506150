"""Helpers for the mail tests: messages, a unit config with mail settings, the inbox's manifest, and loopback
servers (a recording SMTP server, servers that trickle or stall, in plain TCP or TLS)."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Iterator

import yaml

from builders import free_port

ROOT = Path(__file__).resolve().parent.parent
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
OCTET = ("application", "octet-stream")


def message(mid, sender, subject, attachments=(), date="Mon, 16 Nov 2026 09:30:00 +0800") -> EmailMessage:
    """A message to coord@unit.cn; attachments are (file name, bytes, (maintype, subtype))."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "coord@unit.cn", subject
    msg["Date"], msg["Message-ID"] = date, mid
    msg.set_content("请查收附件。")
    for name, data, ctype in attachments:
        msg.add_attachment(data, maintype=ctype[0], subtype=ctype[1], filename=name)
    return msg


def mail_config(tmp_path: Path, smtp_port: int | None = None, **mail) -> Path:
    """A copy of config/ whose unit.yaml `mail:` section has these values. With smtp_port: every department
    gets an address (dept0@unit.cn, ...) and notices go to a plain SMTP server on 127.0.0.1 at that port."""
    cfg = tmp_path / "cfg"
    shutil.copytree(ROOT / "config", cfg)
    unit = yaml.safe_load((cfg / "unit.yaml").read_text(encoding="utf-8"))
    if smtp_port is not None:
        for i, d in enumerate(unit["departments"]):
            d["email"] = f"dept{i}@unit.cn"
        unit["mail"].update(sender="coord@unit.cn", smtp_host="127.0.0.1", smtp_port=smtp_port,
                            smtp_security="none", smtp_user="")
    unit["mail"].update(mail)
    (cfg / "unit.yaml").write_text(yaml.safe_dump(unit, allow_unicode=True), encoding="utf-8")
    return cfg


def manifest(inbox: Path) -> dict:
    return json.loads((inbox / "manifest.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- a real SMTP server (aiosmtpd)

class Recorder:
    """An aiosmtpd handler keeping every envelope; the addresses in `refuse` are answered 550."""

    def __init__(self, refuse=()):
        self.refuse = set(refuse)
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


@contextmanager
def smtp_server(handler: Recorder) -> Iterator[int]:
    """A real SMTP server on a free loopback port (yielded), stopped afterwards."""
    from aiosmtpd.controller import Controller
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


# ---------------------------------------------------------------- servers that trickle

class Trickler:
    """A loopback server that answers each connection with a few bytes, then one byte every 0.2 s (30 s at most)."""

    def __init__(self, prefix: bytes, byte: bytes = b"x"):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.prefix, self.byte = prefix, byte
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn):
        with conn:
            try:
                conn.sendall(self.prefix)
                deadline = time.monotonic() + 30
                while not self.stop.is_set() and time.monotonic() < deadline:
                    conn.sendall(self.byte)
                    time.sleep(0.2)
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.sock.close()
