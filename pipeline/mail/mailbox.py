"""The mailbox: collect spreadsheet attachments into the inbox; send receipts and reminders."""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import hashlib
import imaplib
import json
import re
import smtplib
import socket
import ssl
import unicodedata
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from pipeline.atomic import atomic_path, atomic_write_json
from pipeline.catalog import Config
from pipeline.errors import MailError
from pipeline.intake.ingest import WORKBOOK_SUFFIXES, read_workbook

if TYPE_CHECKING:
    from pipeline.mail.mailbox.notices import Notice

MANIFEST = "manifest.json"
SPREADSHEET_TYPES = {"application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     "application/vnd.ms-excel.sheet.macroenabled.12"}


@dataclass
class Saved:
    message_id: str
    sender: str
    date: str
    original: str
    saved: str | None
    sha256: str
    department: str | None = None
    skipped: str | None = None   # why nothing was written (already saved)


@dataclass
class Collected:
    saved: list[Saved] = field(default_factory=list)
    skipped: list[Saved] = field(default_factory=list)
    messages: int = 0            # new messages read
    known: int = 0               # messages already in the manifest


# ---------------------------------------------------------------- parsing messages

def parse_message(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


def _header(msg: Message, name: str) -> str:
    try:
        return str(msg.get(name, "") or "").strip()
    except (ValueError, TypeError, IndexError):  # a malformed header never stops the run
        return ""


def message_id(msg: Message, data: bytes) -> str:
    mid = _header(msg, "Message-ID")
    return mid or "<sha256:" + hashlib.sha256(data).hexdigest()[:32] + ">"


def attachments(msg: Message) -> Iterator[tuple[str, bytes]]:
    """(file name, content) of every spreadsheet attachment, forwarded messages included."""
    for part in msg.walk():
        if part.is_multipart():
            continue
        try:
            name = part.get_filename()
        except (ValueError, TypeError, IndexError):
            name = None
        name = _clean_name(name) if name else ""
        suffix = Path(name).suffix.lower()
        if suffix not in WORKBOOK_SUFFIXES and part.get_content_type() not in SPREADSHEET_TYPES:
            continue
        if not name:
            name = "附件.xlsx"
        elif suffix not in WORKBOOK_SUFFIXES:
            name += ".xls" if part.get_content_type() == "application/vnd.ms-excel" else ".xlsx"
        payload = part.get_payload(decode=True)
        if payload:
            yield name, payload


def _clean_name(name: str) -> str:
    """A file name safe on any system: no folders, no control or reserved characters."""
    name = unicodedata.normalize("NFC", str(name)).replace("\\", "/").split("/")[-1]
    name = re.sub(r'[\x00-\x1f\x7f<>:"|?*]', "_", name).strip(" .")
    return name[:150]


def _sender(msg: Message) -> tuple[str, str]:
    name, addr = parseaddr(_header(msg, "From"))
    return name, addr.lower()


def _date(msg: Message) -> dt.datetime | None:
    try:
        return parsedate_to_datetime(_header(msg, "Date"))
    except (TypeError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------- the inbox and its manifest

def load_manifest(inbox: Path) -> dict:
    path = inbox / MANIFEST
    if not path.is_file():
        return {"messages": [], "files": []}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data.setdefault("messages", [])
        data.setdefault("files", [])
        return data
    except (ValueError, OSError):
        raise MailError(f"收件箱中的 {MANIFEST} 已损坏，请改名备份后重试") from None


def store_message(data: bytes, inbox: Path, manifest: dict, config: Config, result: Collected,
                  subject: str | None = None) -> None:
    """Save the spreadsheet attachments of one raw message into the inbox (never overwriting)."""
    msg = parse_message(data)
    mid = message_id(msg, data)
    if mid in manifest["messages"]:
        result.known += 1
        return
    if subject and subject not in _header(msg, "Subject"):
        return
    result.messages += 1
    name, addr = _sender(msg)
    when = _date(msg)
    day = when.strftime("%Y%m%d") if when else dt.date.today().strftime("%Y%m%d")
    known_hashes = {f["sha256"]: f["saved"] for f in manifest["files"]}
    dept_by_mail = {d.email.lower(): d.name for d in config.departments if d.email}
    for original, payload in attachments(msg):
        digest = hashlib.sha256(payload).hexdigest()
        entry = Saved(mid, addr or name, when.isoformat() if when else "", original, None, digest)
        entry.department = dept_by_mail.get(addr) or config.department_in_text(original) \
            or config.department_in_text(name)
        if digest in known_hashes:
            entry.skipped, entry.saved = "已保存过相同内容", known_hashes[digest]
            result.skipped.append(entry)
            continue
        target = _free_name(inbox, f"{day}-{_clean_name(addr or name or '未知发件人')}-{original}")
        with atomic_path(target) as tmp:
            tmp.write_bytes(payload)
        entry.saved = target.name
        if entry.department is None:
            entry.department = _department_of_file(target, inbox, config)
        known_hashes[digest] = target.name
        manifest["files"].append(entry.__dict__)
        result.saved.append(entry)
    manifest["messages"].append(mid)


def _department_of_file(path: Path, inbox: Path, config: Config) -> str | None:
    return read_workbook(path, inbox, config).department


def _free_name(inbox: Path, name: str) -> Path:
    target = inbox / name
    stem, suffix = target.stem, target.suffix
    k = 1
    while target.exists():
        k += 1
        target = inbox / f"{stem}({k}){suffix}"
    return target


def collect_eml(eml_dir: Path, inbox: Path, config: Config, subject: str | None = None) -> Collected:
    """Save attachments of every .eml file in a folder (as Outlook, Foxmail and web mail export them)."""
    if not eml_dir.is_dir():
        raise MailError(f"邮件文件夹不存在：{eml_dir}")
    inbox.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(inbox)
    result = Collected()
    for path in sorted(eml_dir.rglob("*.eml")):
        store_message(path.read_bytes(), inbox, manifest, config, result, subject)
    atomic_write_json(inbox / MANIFEST, manifest)
    return result


def collect_imap(host: str, inbox: Path, config: Config, *, port: int | None = None, user: str = "",
                 password: str = "", folder: str = "INBOX", since: dt.date | None = None,
                 subject: str | None = None, security: str = "auto", timeout: float = 30) -> Collected:
    """Save attachments of new messages in an IMAP folder; messages already in the manifest are not fetched."""
    inbox.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(inbox)
    result = Collected()
    imap = _imap_connect(host, port, security, timeout)
    try:
        try:
            imap.login(user, password)
        except imaplib.IMAP4.error:
            raise MailError("邮箱用户名或密码错误，登录失败") from None
        status, _ = imap.select(_imap_quote(imap_utf7(folder)), readonly=True)
        if status != "OK":
            raise MailError(f"邮箱中没有文件夹“{folder}”")
        criteria = ["SINCE", since.strftime("%d-%b-%Y")] if since else ["ALL"]
        status, data = imap.uid("SEARCH", *criteria)
        if status != "OK":
            raise MailError(f"无法检索文件夹“{folder}”中的邮件")
        known = set(manifest["messages"])
        for uid in (data[0] or b"").split():
            status, head = imap.uid("FETCH", uid, "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            mid = _header(parse_message(_fetched(head)), "Message-ID") if status == "OK" else ""
            if mid and mid in known:
                result.known += 1
                continue
            status, body = imap.uid("FETCH", uid, "(BODY.PEEK[])")
            if status == "OK":
                store_message(_fetched(body), inbox, manifest, config, result, subject)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailError(f"读取邮箱时连接中断（{exc.__class__.__name__}），已保存的附件保留，请稍后重试") from None
    finally:
        atomic_write_json(inbox / MANIFEST, manifest)
        try:
            imap.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    return result


def _fetched(data) -> bytes:
    for item in data or []:
        if isinstance(item, tuple) and len(item) > 1:
            return item[1]
    return b""


def imap_utf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3): 文明单位 -> &ZYdmDlNVT00-."""
    out, pending = [], []

    def flush() -> None:
        if pending:
            raw = base64.b64encode("".join(pending).encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + raw.replace("/", ",") + "-")
            pending.clear()
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def _imap_quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _imap_connect(host: str, port: int | None, security: str, timeout: float) -> imaplib.IMAP4:
    security = security if security != "auto" else ("ssl" if port in (None, 993) else "starttls")
    try:
        if security == "ssl":
            return imaplib.IMAP4_SSL(host, port or 993, ssl_context=ssl.create_default_context(), timeout=timeout)
        imap = imaplib.IMAP4(host, port or 143, timeout=timeout)
        if security == "starttls":
            imap.starttls(ssl_context=ssl.create_default_context())
        return imap
    except (socket.gaierror, ConnectionRefusedError, TimeoutError, socket.timeout) as exc:
        raise MailError(f"无法连接邮箱服务器 {host}:{port or ''}（{_net_reason(exc)}），请检查地址、端口和网络") from None
    except (ssl.SSLError, imaplib.IMAP4.error, OSError) as exc:
        raise MailError(f"与邮箱服务器 {host} 建立安全连接失败（{exc.__class__.__name__}），请检查端口和加密方式") from None


def _net_reason(exc: Exception) -> str:
    if isinstance(exc, socket.gaierror):
        return "找不到服务器"
    if isinstance(exc, ConnectionRefusedError):
        return "连接被拒绝"
    return "连接超时"


# ---------------------------------------------------------------- notices

def write_outbox(notices: Iterable[Notice], outbox: Path) -> list[Path]:
    outbox.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in notices:
        path = outbox / f"{n.department}-{n.kind}.eml"
        with atomic_path(path) as tmp:
            tmp.write_bytes(n.message.as_bytes(policy=email.policy.SMTP))
        paths.append(path)
    return paths


def send(notices: list[Notice], config: Config, password: str,
         progress: Callable[[str], None] | None = None) -> tuple[list[str], list[str]]:
    """Send over SMTP; returns (departments sent, departments skipped for want of an address)."""
    mail = config.settings.get("mail") or {}
    host, port = str(mail.get("smtp_host") or ""), int(mail.get("smtp_port") or 465)
    security, user = str(mail.get("smtp_security") or "ssl"), str(mail.get("smtp_user") or "")
    if not host:
        raise MailError("unit.yaml 的 mail.smtp_host 未填写，无法发送；可先用 --dry-run 生成邮件文件")
    sent, skipped = [], []
    try:
        if security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, context=ssl.create_default_context(), timeout=30)
        else:
            smtp = smtplib.SMTP(host, port, timeout=30)
            if security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        with smtp:
            if user:
                smtp.login(user, password)
            for n in notices:
                if not n.message["To"]:
                    skipped.append(n.department)
                    continue
                smtp.send_message(n.message)
                sent.append(n.department)
                if progress:
                    progress(n.department)
    except smtplib.SMTPAuthenticationError:
        raise MailError("发件邮箱用户名或密码错误，登录失败") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"发送邮件失败（{exc.__class__.__name__}），已发送：{'、'.join(sent) or '无'}") from None
    return sent, skipped
