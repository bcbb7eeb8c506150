"""Collect from an IMAP folder: sizes checked before anything is fetched, every exchange under a deadline."""

from __future__ import annotations

import base64
import datetime as dt
import imaplib
import io
import re
import socket
import ssl
from pathlib import Path

from pipeline.catalog import Config
from pipeline.errors import MailError
from pipeline.mail import deadline as dl
from pipeline.mail.inbox import Limits, Manifest, locked_manifest
from pipeline.mail.messages import Collected, header, one_message, parse_stream, store_message, too_big

_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_UID = re.compile(rb"\bUID (\d+)")
HEAD_BATCH = 200      # messages whose size and Message-ID are asked for in one FETCH
HEAD_ITEMS = "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID FROM SUBJECT)])"


class _Guarded(dl.Guarded):
    """An IMAP4 whose socket is watched by a Deadline from the moment it connects (the greeting included)."""

    def _create_socket(self, timeout):  # type: ignore[override]
        return self._guard.connect(super()._create_socket)  # type: ignore[misc]


class GuardedIMAP(_Guarded, imaplib.IMAP4):
    pass


class GuardedIMAPSSL(_Guarded, imaplib.IMAP4_SSL):
    pass


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


class NotConnected(MailError):
    """The server could not be reached, did not speak IMAP, or refused the login: nothing was read."""


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _net_reason(exc: Exception) -> str:
    if isinstance(exc, socket.gaierror):
        return "找不到服务器"
    if isinstance(exc, ConnectionRefusedError):
        return "连接被拒绝"
    return "连接超时"


def _connect(host: str, port: int | None, security: str, guard: dl.Deadline) -> imaplib.IMAP4:
    security = security if security != "auto" else ("ssl" if port in (None, 993) else "starttls")
    try:
        if security == "ssl":
            return GuardedIMAPSSL(guard, host, port or 993, ssl_context=guard.tls(ssl.create_default_context()))
        imap = GuardedIMAP(guard, host, port or 143)
        if security == "starttls":
            guard.step()
            try:
                imap.starttls(ssl_context=guard.tls(ssl.create_default_context()))
            except BaseException:
                dl.close_quietly(imap.file)
                dl.close_quietly(imap.sock)
                raise
        return imap
    except (socket.gaierror, ConnectionRefusedError, TimeoutError, socket.timeout) as exc:
        if guard.expired and guard.what != dl.CONNECT:
            raise MailError(_stalled(host, guard)) from None
        raise MailError(f"无法连接邮箱服务器 {host}:{port or ''}（{_net_reason(exc)}），请检查地址、端口和网络") from None
    except (ssl.SSLError, imaplib.IMAP4.error, OSError) as exc:
        if guard.expired:
            raise MailError(_stalled(host, guard)) from None
        if security == "none":
            raise MailError(f"邮箱服务器 {host} 的应答无法识别（{exc.__class__.__name__}），请检查端口和加密方式") from None
        raise MailError(f"与邮箱服务器 {host} 建立安全连接失败（{exc.__class__.__name__}），请检查端口和加密方式") from None


def _stalled(host: str, guard: dl.Deadline) -> str:
    return (f"邮箱服务器 {host} 响应过慢（{guard.per_step:g} 秒内未完成{guard.what}），已停止收取；"
            "已保存的附件保留，请稍后重新运行")


def _fetched(data) -> tuple[bytes, bytes]:
    """(the response line, the literal) of a one-message FETCH answer."""
    for item in data or []:
        if isinstance(item, tuple) and len(item) > 1:
            return item[0], item[1]
    return b"", b""


def collect_imap(host: str, inbox: Path, config: Config, *, port: int | None = None, user: str = "",
                 password: str = "", folder: str = "INBOX", since: dt.date | None = None,
                 subject: str | None = None, security: str = "auto") -> Collected:
    """Save workbooks and evidence of new messages in an IMAP folder. Each message's size (RFC822.SIZE) and
    Message-ID are fetched first: known or oversized messages are never downloaded. A stalled or lost server
    ends the run early with `stopped` set (one Chinese line), after everything received so far is saved."""
    inbox = Path(inbox)
    limits = Limits.from_config(config)
    per_step, total = dl.settings(config)
    result = Collected()
    with locked_manifest(inbox, limits.lock_wait) as manifest, dl.Deadline(per_step, total) as guard:
        try:
            imap = _connect(host, port, security, guard)
        except MailError as exc:
            raise NotConnected(str(exc)) from None
        try:
            guard.step()
            try:
                imap.login(user, password)
            except imaplib.IMAP4.abort as exc:
                raise NotConnected(_stalled(host, guard) if guard.expired else
                                   f"登录邮箱时连接中断（{exc.__class__.__name__}），请检查端口和加密方式") from None
            except imaplib.IMAP4.error:
                raise NotConnected("邮箱用户名或密码错误，登录失败") from None
            except UnicodeEncodeError:
                raise NotConnected("邮箱用户名或密码含有中文等字符，IMAP 登录不支持，登录失败") from None
            except OSError as exc:
                raise NotConnected(_stalled(host, guard) if guard.expired else
                                   f"登录邮箱时连接中断（{exc.__class__.__name__}），请检查端口和加密方式") from None
            guard.step()
            status, _ = imap.select(_quote(imap_utf7(folder)), readonly=True)
            if status != "OK":
                raise MailError(f"邮箱中没有文件夹“{folder}”")
            criteria = ["SINCE", since.strftime("%d-%b-%Y")] if since else ["ALL"]
            guard.step()
            status, data = imap.uid("SEARCH", *criteria)
            if status != "OK":
                raise MailError(f"无法检索文件夹“{folder}”中的邮件")
            uids = (data[0] or b"").split()
            for start in range(0, len(uids), HEAD_BATCH):
                group = uids[start:start + HEAD_BATCH]
                guard.step()
                status, heads = imap.uid("FETCH", b",".join(group).decode("ascii"), HEAD_ITEMS)
                info: dict[bytes, tuple[int, bytes]] = {}
                for item in (heads or []) if status == "OK" else []:
                    if isinstance(item, tuple) and len(item) > 1:
                        found_uid, found_size = _UID.search(item[0]), _SIZE.search(item[0])
                        if found_uid:
                            info[found_uid.group(1)] = (int(found_size.group(1)) if found_size else 0, item[1])
                for uid in group:
                    _one(imap, uid, info.get(uid), guard, inbox, manifest, config, limits, result, subject)
                    manifest.save()
        except (OSError, imaplib.IMAP4.error) as exc:
            if guard.expired:
                result.stopped = _stalled(host, guard)
            else:
                result.stopped = (f"读取邮箱时连接中断（{exc.__class__.__name__}），已保存的附件保留，请稍后重新运行")
        finally:
            guard.close()
            try:
                imap.sock.settimeout(1)
                imap.logout()
            except Exception:  # noqa: BLE001
                pass
    return result


def _one(imap: imaplib.IMAP4, uid: bytes, head: tuple[int, bytes] | None, guard: dl.Deadline, inbox: Path,
         manifest: Manifest, config: Config, limits: Limits, result: Collected, subject: str | None) -> None:
    """One message: known or oversized ones are never downloaded; a bad one is reported by UID."""
    label = f"邮件 UID {uid.decode('ascii', 'replace')}"
    if head is None:
        result.problems.append(f"{label}：服务器未返回邮件信息，已跳过")
        return
    size, fields = head
    try:
        top, _, _ = parse_stream(io.BytesIO(fields), 1 << 20)
        mid = header(top, "Message-ID")[:500]
        who = header(top, "From")[:120]
    except Exception:  # noqa: BLE001
        mid, who = "", ""
    if mid and manifest.message_state(mid, size=size) == "known":
        result.known += 1
        return
    if size > limits.message_bytes:
        result.problems.append(f"{label}（发件人 {who or '未知'}）：{too_big(size, limits.message_bytes)}")
        return
    guard.step(size)
    status, body = imap.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        result.problems.append(f"{label}：服务器未返回邮件内容，已跳过")
        return
    raw = _fetched(body)[1]
    del body
    with one_message(result, f"{label}（发件人 {who or '未知'}）"):
        msg, sha, got = parse_stream(io.BytesIO(raw), limits.message_bytes)
        del raw
        store_message(msg, sha, got, label, inbox, manifest, config, limits, result, subject)


__all__ = ["collect_imap", "imap_utf7"]
