"""One received message at a time: parse it (streamed, size-checked), save its workbooks and evidence.

Whatever one message does (a huge or malformed one, 1,500 forwards deep, a name of 1,000 bytes, a workbook that
cannot be read), it is that message's problem only: it is reported by its file or UID and the next one goes on."""

from __future__ import annotations

import datetime as dt
import email.policy
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesFeedParser
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import IO, Iterator

from pipeline.catalog import Config
from pipeline.errors import MailError
from pipeline.mail.inbox import (CHUNK, WORKBOOK, Limits, Manifest, SavedFile, clean_name, kind_of, mb,
                                 printable, save_into_inbox, set_department, sniff_kind)

MAX_DEPTH = 30            # forwarded-inside-forwarded levels walked for attachments


class MessageProblem(Exception):
    """One message cannot be collected; the text is the Chinese reason, the run goes on."""


@dataclass
class Collected:
    saved: list[SavedFile] = field(default_factory=list)
    skipped: list[SavedFile] = field(default_factory=list)    # identical content saved before
    refused: list[SavedFile] = field(default_factory=list)    # not written: over a size limit
    ignored: list[SavedFile] = field(default_factory=list)    # neither workbook nor evidence: listed, not saved
    problems: list[str] = field(default_factory=list)         # one Chinese line per message that could not be read
    notes: list[str] = field(default_factory=list)            # one Chinese line per thing worth knowing
    messages: int = 0            # new messages read
    known: int = 0               # messages already in the manifest
    stopped: str | None = None   # why collecting stopped early (a stalled server), after saving what it had


@contextmanager
def one_message(result: "Collected", label: str) -> Iterator[None]:
    """Around the handling of one message: its problem is reported under `label` and the message skipped, so
    one malformed message never stops the others (a MailError, about the whole run, goes on up)."""
    try:
        yield
    except MessageProblem as exc:
        result.problems.append(f"{label}：{exc}")
    except MailError:
        raise
    except Exception as exc:  # noqa: BLE001 - one malformed message never stops the others
        result.problems.append(f"{label}：无法读取（{exc.__class__.__name__}），已跳过，其余邮件照常收取")


# ---------------------------------------------------------------- parsing

def parse_stream(stream: IO[bytes], limit: int) -> tuple[Message, str, int]:
    """A message from a binary stream read in blocks (never whole), with its SHA-256 (of the text with LF line
    ends) and size."""
    parser = BytesFeedParser(policy=email.policy.default)
    digest, size, carry = hashlib.sha256(), 0, b""
    try:
        while True:
            block = stream.read(CHUNK)
            if not block:
                break
            size += len(block)
            if size > limit:
                raise MessageProblem(too_big(size, limit))
            parser.feed(block)
            # the hash of the text with LF line ends: an .eml saved by a client and the same message on the
            # IMAP server (CRLF) are one message
            block = carry + block
            carry = b"\r" if block.endswith(b"\r") else b""
            digest.update((block[:-1] if carry else block).replace(b"\r\n", b"\n"))
        digest.update(carry)
        return parser.close(), digest.hexdigest(), size
    except RecursionError:
        raise MessageProblem("邮件转发嵌套层数过多，无法读取；请让对方直接以附件重新发送") from None


def too_big(size: int, limit: int) -> str:
    return (f"邮件大小 {mb(size)}，超过单封邮件上限 {mb(limit)}（unit.yaml 的 mail.max_message_mb），未收取；"
            "请让对方分几封发送，或调高上限后重新运行")


def header(msg: Message, name: str) -> str:
    try:
        return printable(msg.get(name, "") or "")
    except Exception:  # noqa: BLE001 - a malformed header never stops the run
        return ""


def sender(msg: Message) -> tuple[str, str]:
    try:
        name, addr = parseaddr(str(msg.get("From", "") or ""))
    except Exception:  # noqa: BLE001
        return "", ""
    return printable(name)[:200], printable(addr).lower()[:200]


def message_date(msg: Message) -> dt.datetime | None:
    try:
        when = parsedate_to_datetime(str(msg.get("Date", "") or ""))
    except Exception:  # noqa: BLE001 - an impossible year or a malformed Date is no date
        return None
    return when if when is not None and 1990 <= when.year <= 2200 else None


def message_id(msg: Message, sha256: str) -> str:
    return header(msg, "Message-ID")[:500] or f"<sha256:{sha256[:32]}>"


def _parts(msg: Message, deep: list[bool]) -> Iterator[Message]:
    """Leaf parts, forwarded messages included, without recursion (depth bounded)."""
    stack = [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        if part.is_multipart():
            if depth >= MAX_DEPTH:
                deep[0] = True
                continue
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend((c, depth + 1) for c in reversed(children) if isinstance(c, Message))
        else:
            yield part


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        name = None
    return clean_name(name) if name else ""


def attachments(msg: Message, deep: list[bool] | None = None) -> Iterator[tuple[str, str, bytes]]:
    """(file name, content type, content) of every attachment that has a name or a file-like type."""
    for part in _parts(msg, deep if deep is not None else [False]):
        ctype = part.get_content_type()
        name = _filename(part)
        if not name:
            disposition = (part.get_content_disposition() or "")
            if ctype.startswith(("text/", "multipart/")) or (disposition != "attachment" and ctype.startswith("image/")):
                continue   # message bodies, and pictures inline in a signature
            if ctype in ("message/delivery-status", "application/pgp-signature", "application/pkcs7-signature"):
                continue
        try:
            payload = part.get_payload(decode=True)
        except Exception:  # noqa: BLE001
            payload = None
        if payload:
            yield name, ctype, payload


# ---------------------------------------------------------------- one message into the inbox

def store_message(msg: Message, sha256: str, size: int, source: str, inbox: Path, manifest: Manifest,
                  config: Config, limits: Limits, result: Collected, subject: str | None = None) -> None:
    """Save the workbooks and evidence of one parsed message. The message is recorded as collected only when
    every file it carries was saved (or had been before): one refused for its size is tried again next run."""
    mid = message_id(msg, sha256)
    state = manifest.message_state(mid, sha256=sha256)
    if state == "known":
        result.known += 1
        manifest.add_message(mid, size, sha256, source)   # remembers this size too: no download next time
        return
    if subject and subject not in header(msg, "Subject"):
        return
    if size > limits.message_bytes:
        raise MessageProblem(too_big(size, limits.message_bytes))
    if state == "reused":
        result.notes.append(f"{source}：Message-ID {mid} 此前已用于另一封内容不同的邮件，本封按新邮件收取")
    result.messages += 1
    name, addr = sender(msg)
    when = message_date(msg)
    who = addr or name
    by_mail = {d.email.lower(): d.name for d in config.departments if d.email}
    guess = (by_mail.get(addr) or config.department_in_text(name)
             or config.department_in_text(header(msg, "Subject")))
    complete, deep = True, [False]
    workbooks: list[SavedFile] = []
    evidence: list[SavedFile] = []
    for original, ctype, payload in attachments(msg, deep):
        kind = kind_of(original, ctype) or (sniff_kind(payload[:4096]) if not original or ctype ==
                                            "application/octet-stream" else None)
        if kind is None:
            result.ignored.append(SavedFile(original or "（无名附件）", None, size=len(payload), kind="",
                                            message_id=mid, sender=who, skipped="不是台账或佐证材料"))
            continue
        saved = save_into_inbox(inbox, original or ("台账" if kind == WORKBOOK else "附件"), payload, sender=who,
                                message_id=mid, date=when, kind=kind, content_type=ctype, limits=limits,
                                manifest=manifest)
        if saved.saved is None:
            complete = False
            result.refused.append(saved)
        elif saved.skipped:
            result.skipped.append(saved)
        else:
            result.saved.append(saved)
            (workbooks if kind == WORKBOOK else evidence).append(saved)
    if deep[0]:
        result.notes.append(f"{source}：转发嵌套超过 {MAX_DEPTH} 层，更深处的附件未读取；请让对方直接以附件重新发送")
    for saved in workbooks:
        set_department(manifest, saved, _workbook_department(inbox / saved.saved, inbox, config)
                       or config.department_in_text(saved.original) or guess)
    found = {s.department for s in workbooks if s.department}
    message_dept = next(iter(found)) if len(found) == 1 else guess
    for saved in evidence:
        set_department(manifest, saved, config.department_in_text(saved.original) or message_dept)
    if complete:
        manifest.add_message(mid, size, sha256, source)


def _workbook_department(path: Path, inbox: Path, config: Config) -> str | None:
    """The department a saved workbook names (填报信息/部门, else its file name); None if it cannot be read.
    Read in an isolated worker (pipeline.intake.isolate): a file that crashes a reader ends only that reading."""
    try:
        from pipeline.intake.isolate import read_one
        return read_one(path, inbox, config).department
    except Exception:  # noqa: BLE001 - intake reports the file on the next report; collect goes on
        return None


__all__ = ["Collected", "MessageProblem", "attachments", "parse_stream", "store_message"]
