"""Helpers for the mail tests: messages, a unit config with mail settings, the inbox's manifest, and loopback
servers (a recording SMTP server, servers that trickle or stall, in plain TCP or TLS)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Iterator

import yaml

from builders import free_port, run

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


def collect_imap(port: int, inbox: Path, cfg: Path, security: str = "none", *extra: str):
    """`collect` from an IMAP server on 127.0.0.1 (user u, password x): (the result, the seconds it took)."""
    os.environ["WENMING_IMAP_PASSWORD"] = "x"
    try:
        start = time.monotonic()
        result = run("collect", "--imap-host", "127.0.0.1", "--imap-port", str(port), "--imap-security", security,
                     "--imap-user", "u", "--inbox", str(inbox), "--config", str(cfg), *extra)
        return result, time.monotonic() - start
    finally:
        os.environ.pop("WENMING_IMAP_PASSWORD", None)


def notify(scores: Path, cfg: Path):
    """`notify` with the project's input templates: (the result, the seconds it took)."""
    start = time.monotonic()
    result = run("notify", "--scores", str(scores), "--config", str(cfg), "--templates", str(ROOT / "input_templates"))
    return result, time.monotonic() - start


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
def smtp_server(handler: Recorder, cert: tuple[Path, Path] | None = None) -> Iterator[int]:
    """A real SMTP server on a free loopback port (yielded), stopped afterwards; with a certificate it speaks
    TLS from the first byte (465 style)."""
    from aiosmtpd.controller import Controller
    port = free_port()
    tls = {}
    if cert is not None:
        import ssl
        tls["ssl_context"] = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls["ssl_context"].load_cert_chain(*cert)
    controller = Controller(handler, hostname="127.0.0.1", port=port, **tls)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


# ---------------------------------------------------------------- servers that trickle

class LoopbackServer:
    """A TCP server on a free loopback port (TLS from the first byte when given a certificate); each connection
    is served by handle(conn, deadline) in a thread of its own, which gives up after LIFETIME seconds. close() (or leaving the with block) closes every connection and
    joins every thread."""

    LIFETIME = 30
    TLS_FIRST = True                           # with a certificate, handle() gets the TLS socket

    def __init__(self, cert: tuple[Path, Path] | None = None):
        self.context = None                    # with a certificate: TLS from the first byte (993/465 style)
        if cert is not None:
            import ssl
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(*cert)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.connections: list[socket.socket] = []
        self.threads = [threading.Thread(target=self._serve, daemon=True)]
        self.threads[0].start()

    def _serve(self):
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections.append(conn)
            thread = threading.Thread(target=self._run, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _run(self, conn):
        try:
            if self.context is not None and self.TLS_FIRST:
                conn.settimeout(5)
                conn = self.context.wrap_socket(conn, server_side=True)
                conn.settimeout(None)
                self.connections.append(conn)
            self.handle(conn, time.monotonic() + self.LIFETIME)
        except OSError:
            pass
        finally:
            conn.close()

    def handle(self, conn: socket.socket, deadline: float) -> None:
        raise NotImplementedError

    def going(self, deadline: float) -> bool:
        return not self.stop.is_set() and time.monotonic() < deadline

    def close(self):
        self.stop.set()
        self.sock.close()
        for conn in self.connections:      # wakes a handler blocked reading
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self.threads:
            thread.join(timeout=5)
        for conn in self.connections:
            conn.close()
        assert not any(t.is_alive() for t in self.threads), "a test server thread did not end"

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextmanager
def unanswered_port() -> Iterator[int]:
    """A loopback port whose connection attempts are never answered (as a host behind a firewall dropping
    them): a listener that never accepts, its backlog filled first."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.1)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


class Trickler(LoopbackServer):
    """Answers each connection with a few bytes, then one byte every 0.2 s."""

    def __init__(self, prefix: bytes, byte: bytes = b"x"):
        self.prefix, self.byte = prefix, byte
        super().__init__()

    def handle(self, conn, deadline):
        conn.sendall(self.prefix)
        while self.going(deadline):
            conn.sendall(self.byte)
            time.sleep(0.2)


class FakeIMAP(LoopbackServer):
    """Just enough IMAP: UID 1 announced as 3 GB, UID 2 a real small message, UID 3 whose body trickles
    (over TLS from the first byte when given a certificate)."""

    def __init__(self, small: bytes, cert: tuple[Path, Path] | None = None):
        self.small = small
        self.commands = []
        super().__init__(cert)

    def handle(self, conn, deadline):
        f = conn.makefile("rb")
        conn.sendall(b"* OK fake ready\r\n")
        while self.going(deadline):
            line = f.readline()
            if not line:
                return
            self.commands.append(line.decode().strip())
            tag, cmd = line.split(b" ", 1)
            cmd = cmd.upper()
            if cmd.startswith(b"CAPABILITY"):
                conn.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
            elif cmd.startswith(b"LOGIN"):
                conn.sendall(tag + b" OK logged in\r\n")
            elif cmd.startswith(b"SELECT") or cmd.startswith(b"EXAMINE"):
                conn.sendall(b"* 3 EXISTS\r\n" + tag + b" OK [READ-ONLY] done\r\n")
            elif cmd.startswith(b"UID SEARCH"):
                conn.sendall(b"* SEARCH 1 2 3\r\n" + tag + b" OK done\r\n")
            elif cmd.startswith(b"UID FETCH") and b"RFC822.SIZE" in cmd:
                out = b""
                for uid in map(int, cmd.split()[2].split(b",")):
                    size = {1: 3_000_000_000, 2: len(self.small), 3: 500}[uid]
                    head = b"Message-ID: <u%d@x>\r\n\r\n" % uid
                    out += (b"* %d FETCH (UID %d RFC822.SIZE %d BODY[HEADER.FIELDS (MESSAGE-ID FROM SUBJECT)] {%d}"
                            b"\r\n" % (uid, uid, size, len(head)) + head + b")\r\n")
                conn.sendall(out + tag + b" OK done\r\n")
            elif cmd.startswith(b"UID FETCH") and b"BODY.PEEK[]" in cmd:
                uid = int(cmd.split()[2])
                if uid == 2:
                    conn.sendall(b"* 2 FETCH (UID 2 BODY[] {%d}\r\n" % len(self.small) + self.small
                                 + b")\r\n" + tag + b" OK done\r\n")
                else:
                    conn.sendall(b"* 3 FETCH (UID 3 BODY[] {500}\r\n")
                    for _ in range(150):
                        if self.stop.is_set():
                            return
                        conn.sendall(b"x")
                        time.sleep(0.2)
            elif cmd.startswith(b"LOGOUT"):
                conn.sendall(b"* BYE\r\n" + tag + b" OK bye\r\n")
                return
            else:
                conn.sendall(tag + b" BAD unknown\r\n")


# ---------------------------------------------------------------- servers that go wrong at the TLS step

def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 made now (cryptography), and its key: (cert.pem, key.pem). A client trusts it
    when SSL_CERT_FILE names cert.pem (OpenSSL reads that variable when a default context loads its CAs)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class TLSMisbehaver(LoopbackServer):
    """A loopback IMAP or SMTP server that goes wrong at TLS.

    protocol: "imap" or "smtp"; tls: "ssl" (TLS from the first byte, ports 993/465) or "starttls" (a plain
    greeting, the capability and STARTTLS commands answered, then TLS); then:
      "stall"   - the ClientHello is read and never answered;
      "slow"    - the ClientHello is answered one byte every 0.2 s (a record header promising 16 KB, then zeros);
      "trickle" - TLS completes (cert is needed), then the greeting trickles: a few bytes, one byte every 0.2 s.
    """

    GREETING = {"imap": b"* OK ", "smtp": b"220"}

    TLS_FIRST = False                          # handle() goes wrong before, during or after TLS itself

    def __init__(self, protocol: str, tls: str, then: str, cert: tuple[Path, Path] | None = None):
        self.protocol, self.tls, self.then = protocol, tls, then
        self.seen: list[bytes] = []                   # the plain-text commands received
        super().__init__(cert)

    def _line(self, conn) -> bytes:
        line = b""
        while not line.endswith(b"\n"):
            byte = conn.recv(1)
            if not byte:
                raise ConnectionError("client went away")
            line += byte
        self.seen.append(line.strip())
        return line

    def _starttls(self, conn) -> None:
        """The plain part of the dialogue, up to the server's yes to STARTTLS."""
        if self.protocol == "imap":
            conn.sendall(b"* OK fake IMAP ready\r\n")
            while True:
                tag, _, cmd = self._line(conn).strip().partition(b" ")
                if cmd.upper().startswith(b"CAPABILITY"):
                    conn.sendall(b"* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
                elif cmd.upper().startswith(b"STARTTLS"):
                    conn.sendall(tag + b" OK begin TLS now\r\n")
                    return
                else:
                    conn.sendall(tag + b" BAD not before TLS\r\n")
        conn.sendall(b"220 fake ESMTP ready\r\n")
        while True:
            cmd = self._line(conn).upper()
            if cmd.startswith(b"EHLO"):
                conn.sendall(b"250-fake\r\n250 STARTTLS\r\n")
            elif cmd.startswith(b"STARTTLS"):
                conn.sendall(b"220 go ahead\r\n")
                return
            else:
                conn.sendall(b"503 TLS first\r\n")

    def handle(self, conn, deadline):
        if self.tls == "starttls":
            conn.settimeout(5)
            self._starttls(conn)
        conn.settimeout(0.2)
        if self.then == "stall":
            while self.going(deadline):
                try:
                    if not conn.recv(4096):
                        return
                except socket.timeout:
                    continue
        elif self.then == "slow":
            conn.sendall(b"\x16\x03\x03\x40\x00")
            while self.going(deadline):
                conn.sendall(b"\x00")
                time.sleep(0.2)
        else:
            conn.settimeout(5)
            tls = self.context.wrap_socket(conn, server_side=True)
            self.connections.append(tls)
            tls.sendall(self.GREETING[self.protocol])
            while self.going(deadline):
                tls.sendall(b"x")
                time.sleep(0.2)


def open_sockets() -> int:
    """How many sockets this process holds open (Linux: /proc/self/fd)."""
    import os
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return count
