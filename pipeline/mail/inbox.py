"""The inbox as collect fills it: one way to save a received file, its manifest, and a lock around both.

`collect` (mailbox and .eml) and the web page's upload call `save_into_inbox`, so a file arrives the same way
whoever brought it: streamed to a temporary file with its SHA-256 and a size limit, renamed into place under a
name that never overwrites, identical content kept once, and recorded in `manifest.json`."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import tempfile
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Iterator

from pipeline.atomic import atomic_write_json
from pipeline.errors import MailError
from pipeline.mail.deadline import number as mail_number

MANIFEST = "manifest.json"
LOCK = ".manifest.lock"

WORKBOOK = "workbook"
EVIDENCE = "evidence"

#: Anything that looks like a spreadsheet is saved: intake reads what it can and reports the rest as
#: unreadable (the department then gets "请另存为 .xlsx 后重新报送", not a reminder).
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".fods", ".et", ".ett", ".xlt", ".xltx", ".xltm",
                        ".numbers", ".csv"}
SPREADSHEET_TYPES = {
    "application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel.sheet.macroenabled.12", "application/vnd.ms-excel.sheet.binary.macroenabled.12",
    "application/vnd.oasis.opendocument.spreadsheet", "application/wps-office.et", "application/kset",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template", "text/csv"}
#: Evidence (佐证材料): photos, PDF, Word/WPS documents, presentations and archives of them (saved as they are).
EVIDENCE_SUFFIXES = {
    ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif", ".webp",
    ".pdf", ".ofd",
    ".doc", ".docx", ".docm", ".dot", ".dotx", ".wps", ".wpt", ".rtf", ".odt",
    ".ppt", ".pptx", ".pps", ".ppsx", ".dps", ".dpt", ".odp",
    ".zip", ".7z", ".rar"}
_EVIDENCE_TYPES = {
    "application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/bmp": ".bmp",
    "image/tiff": ".tif", "image/heic": ".heic", "image/webp": ".webp", "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.ms-powerpoint": ".ppt",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "application/zip": ".zip", "application/x-zip-compressed": ".zip", "application/x-7z-compressed": ".7z",
    "application/x-rar-compressed": ".rar", "application/vnd.rar": ".rar", "application/rtf": ".rtf",
    "application/vnd.oasis.opendocument.text": ".odt", "application/kswps": ".wps", "application/wps-office.wps": ".wps",
}

MAX_NAME_BYTES = 200        # whole saved name, UTF-8 (file systems allow 255; room left for "(12)" and temp names)
MAX_SENDER_BYTES = 60       # the sender part of the "date-sender-" prefix
MAX_SUFFIX_CHARS = 12
CHUNK = 1 << 20

DEFAULT_LIMITS = {"max_file_mb": 50, "max_message_mb": 100, "lock_wait_seconds": 10}


@dataclass(frozen=True)
class Limits:
    """Size limits from unit.yaml's `mail:` section (max_file_mb, max_message_mb)."""

    file_bytes: int = DEFAULT_LIMITS["max_file_mb"] << 20
    message_bytes: int = DEFAULT_LIMITS["max_message_mb"] << 20
    lock_wait: float = DEFAULT_LIMITS["lock_wait_seconds"]

    @classmethod
    def from_config(cls, config: Any) -> "Limits":
        def setting(key: str) -> float:
            return mail_number(config, key, DEFAULT_LIMITS[key])
        return cls(int(setting("max_file_mb") * (1 << 20)), int(setting("max_message_mb") * (1 << 20)),
                   setting("lock_wait_seconds"))


@dataclass
class SavedFile:
    """One received file: where it went (or why it did not), for manifest.json and the console."""

    original: str                 # the file name as the sender gave it (cleaned of folders and control characters)
    saved: str | None             # name in the inbox; for a duplicate, the earlier copy's name
    sha256: str = ""
    size: int = 0
    kind: str = WORKBOOK          # workbook / evidence
    department: str | None = None
    message_id: str = ""
    sender: str = ""
    date: str = ""
    skipped: str | None = None    # why nothing new was written (已保存过相同内容 / 超过大小上限 …)

    def entry(self) -> dict:
        d = asdict(self)
        d.pop("skipped")
        return d


def mb(size: int) -> str:
    return f"{size / (1 << 20):.1f} MB" if size >= (1 << 20) else f"{max(1, size // 1024)} KB"


# ---------------------------------------------------------------- names

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_RESERVED = re.compile(r'[<>:"|?*]')


def printable(text: Any) -> str:
    """Text safe to print on a terminal and in a file name: no escape sequences, control or bidi characters."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", str(text or ""))).strip()


def clean_name(name: str) -> str:
    """A file name safe on any system: no folders, no control, bidi or reserved characters."""
    name = printable(str(name).replace("\\", "/").split("/")[-1])
    return _RESERVED.sub("_", name).strip(" .")


def split_suffix(name: str) -> tuple[str, str]:
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem or len(suffix) > MAX_SUFFIX_CHARS or not suffix.isascii() or " " in suffix:
        return name, ""
    return stem, "." + suffix


def cut_bytes(text: str, limit: int) -> str:
    """The longest prefix of text whose UTF-8 form fits in limit bytes (never half a character)."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[:max(0, limit)].decode("utf-8", "ignore")


def saved_name(prefix: str, original: str, limit: int = MAX_NAME_BYTES) -> str:
    """prefix + original, cut to `limit` UTF-8 bytes in the original's stem; its extension is kept."""
    stem, suffix = split_suffix(original)
    room = limit - len(prefix.encode("utf-8")) - len(suffix.encode("utf-8"))
    return prefix + (cut_bytes(stem, room) or "附件") + suffix


def kind_of(name: str, content_type: str = "") -> str | None:
    """workbook / evidence / None (neither: not saved, but listed)."""
    suffix = split_suffix(name)[1].lower()
    if suffix in SPREADSHEET_SUFFIXES:
        return WORKBOOK
    if suffix in EVIDENCE_SUFFIXES:
        return EVIDENCE
    if not suffix:
        if content_type.lower() in SPREADSHEET_TYPES:
            return WORKBOOK
        if content_type.lower() in _EVIDENCE_TYPES:
            return EVIDENCE
    return None


def suffix_for(kind: str, content_type: str, head: bytes) -> str:
    """An extension for a file that came without one, from its content type or first bytes."""
    ctype = content_type.lower()
    if head.startswith(b"%PDF"):
        return ".pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    if head.startswith(b"\x89PNG"):
        return ".png"
    if head.startswith(b"PK\x03\x04"):
        if b"xl/" in head[:2048] or ctype in SPREADSHEET_TYPES:
            return ".xlsx"
        if b"word/" in head[:2048]:
            return ".docx"
        if b"opendocument.spreadsheet" in head[:2048]:
            return ".ods"
        return ".xlsx" if kind == WORKBOOK else ".zip"
    if ctype in _EVIDENCE_TYPES:
        return _EVIDENCE_TYPES[ctype]
    if ctype == "application/vnd.ms-excel" or head.startswith(b"\xd0\xcf\x11\xe0"):
        return ".xls"
    if ctype == "application/vnd.oasis.opendocument.spreadsheet":
        return ".ods"
    return ".xlsx" if kind == WORKBOOK else ""


def sniff_kind(head: bytes) -> str | None:
    """The kind of an attachment with no usable name or type (application/octet-stream), from its first bytes."""
    if head.startswith(b"PK\x03\x04"):
        if b"xl/" in head[:2048] or b"opendocument.spreadsheet" in head[:2048]:
            return WORKBOOK
        return EVIDENCE
    if head.startswith((b"%PDF", b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"7z\xbc\xaf", b"Rar!")):
        return EVIDENCE
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return WORKBOOK   # an OLE2 file (xls, et, doc, ppt): saved; intake says whether it reads as a workbook
    return None


# ---------------------------------------------------------------- the manifest and its lock

class Manifest:
    """manifest.json: the messages already collected and every file saved (contract section 7)."""

    def __init__(self, inbox: Path, data: dict | None = None):
        self.inbox = inbox
        data = data or {}
        self.messages: list[str] = [m for m in data.get("messages", []) if isinstance(m, str)]
        self.seen: dict[str, list[dict]] = {k: list(v) for k, v in (data.get("seen") or {}).items()
                                            if isinstance(v, list)}
        self.files: list[dict] = [f for f in data.get("files", []) if isinstance(f, dict)]
        self.extra = {k: v for k, v in data.items() if k not in ("messages", "seen", "files")}
        self._by_hash = {f.get("sha256"): f for f in self.files if f.get("sha256")}

    @classmethod
    def load(cls, inbox: Path) -> "Manifest":
        path = inbox / MANIFEST
        if not path.is_file():
            return cls(inbox)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError
        except (ValueError, OSError, UnicodeDecodeError):
            raise MailError(f"收件箱中的 {MANIFEST} 已损坏，请改名备份后重试") from None
        return cls(inbox, data)

    def save(self) -> None:
        atomic_write_json(self.inbox / MANIFEST, {**self.extra, "messages": self.messages, "seen": self.seen,
                                                  "files": self.files})

    def known_file(self, sha256: str) -> dict | None:
        entry = self._by_hash.get(sha256)
        if entry and entry.get("saved") and not (self.inbox / entry["saved"]).is_file():
            return None   # the earlier copy was removed by hand: save it again
        return entry

    def add_file(self, saved: SavedFile) -> None:
        entry = saved.entry()
        self.files.append(entry)
        self._by_hash[saved.sha256] = entry

    # messages: a Message-ID with the size and hash of each distinct message that carried it
    def message_state(self, mid: str, size: int | None = None, sha256: str | None = None) -> str:
        """"new", "known", or "reused" (the Message-ID was seen on a message with other content)."""
        if mid not in self.messages and mid not in self.seen:
            return "new"
        seen = self.seen.get(mid)
        if not seen:
            return "known"      # a manifest written before sizes and hashes were kept
        if sha256 is not None:
            return "known" if any(s.get("sha256") == sha256 for s in seen) else "reused"
        if size is not None:
            return "known" if any(s.get("size") == size for s in seen) else "reused"
        return "known"

    def add_message(self, mid: str, size: int, sha256: str, source: str) -> None:
        if mid not in self.messages:
            self.messages.append(mid)
        seen = self.seen.setdefault(mid, [])
        if not any(s.get("sha256") == sha256 and s.get("size") == size for s in seen):
            seen.append({"size": size, "sha256": sha256, "source": source})


def _lock_file(fd: int, blocking: bool) -> bool:
    try:
        import fcntl
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            return True
        except BlockingIOError:
            return False
    except ImportError:  # Windows
        import msvcrt
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False


@contextmanager
def locked_manifest(inbox: Path, wait: float = DEFAULT_LIMITS["lock_wait_seconds"]) -> Iterator[Manifest]:
    """The inbox's manifest, held under a lock: a second collect (or upload) into the same inbox waits up to
    `wait` seconds, then is refused with one Chinese line. The manifest is saved on the way out, whatever happened."""
    try:
        inbox.mkdir(parents=True, exist_ok=True)
        fd = os.open(inbox / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise MailError(f"无法写入收件箱 {inbox}（{exc.strerror or exc.__class__.__name__}），请检查文件夹权限") from None
    try:
        end = time.monotonic() + wait
        while not _lock_file(fd, blocking=False):
            if time.monotonic() >= end:
                raise MailError(f"另一个收取或上传程序正在写入收件箱 {inbox}，请等它结束后再运行")
            time.sleep(0.1)
        manifest = Manifest.load(inbox)
        try:
            yield manifest
        finally:
            manifest.save()
    finally:
        os.close(fd)   # closing releases the lock


# ---------------------------------------------------------------- withdrawing a file

def withdraw(inbox: str | Path, name: str, *, by: str = "工作台") -> str:
    """Move a wrongly sent file (`name`: its path in the inbox, as the board lists it) into the inbox's 已撤回/
    folder, where no reader looks, and record it in manifest.json; nothing is deleted. Returns where it went."""
    from pipeline.intake.ingest import WITHDRAWN_DIR, inbox_files
    inbox = Path(inbox)
    wanted = str(name or "").replace("\\", "/").strip()
    match = next((path for path, rel in inbox_files(inbox)[0] if rel == wanted), None) if wanted else None
    if match is None:
        raise MailError(f"收件箱中没有文件“{printable(wanted)}”（可能已撤回或已改名），请刷新页面后重试")
    folder = inbox / WITHDRAWN_DIR
    with locked_manifest(inbox) as manifest:
        folder.mkdir(exist_ok=True)
        target = _free_name(folder, match.name)
        os.rename(match, target)   # same file system: a move, never a copy and delete
        moved = target.relative_to(inbox).as_posix()
        when = dt.datetime.now().isoformat(timespec="seconds")
        for entry in manifest.files:
            if entry.get("saved") == wanted:
                entry["withdrawn"] = {"date": when, "moved_to": moved, "by": by}
        manifest.extra.setdefault("withdrawn", []).append({"name": wanted, "moved_to": moved, "date": when,
                                                             "by": by})
    return moved


# ---------------------------------------------------------------- saving one file

def _free_name(inbox: Path, name: str) -> Path:
    target = inbox / name
    stem, suffix = split_suffix(name)
    k = 1
    while os.path.lexists(target):
        k += 1
        target = inbox / f"{stem}({k}){suffix}"
    return target


def _chunks(data: bytes | IO[bytes]) -> Iterator[bytes]:
    if isinstance(data, (bytes, bytearray, memoryview)):
        view = memoryview(data)
        for i in range(0, len(view), CHUNK):
            yield bytes(view[i:i + CHUNK])
        return
    while True:
        block = data.read(CHUNK)
        if not block:
            return
        yield block


def _stamp(date: dt.datetime | dt.date | None) -> str:
    day = date if isinstance(date, (dt.date, dt.datetime)) else None
    if day is None or not 1990 <= day.year <= 2200:
        day = dt.date.today()
    return day.strftime("%Y%m%d")


def save_into_inbox(inbox: str | Path, name: str, data: bytes | IO[bytes], *, sender: str = "",
                    message_id: str = "", date: dt.datetime | None = None, department: str | None = None,
                    kind: str | None = None, content_type: str = "", limits: Limits | None = None,
                    manifest: Manifest | None = None) -> SavedFile:
    """Save one received file into the inbox as `collect` does, and record it in manifest.json.

    `data` is bytes or a binary stream (read in 1 MB blocks, never whole). The saved name is
    `日期-发件人-原文件名`, cut to a safe byte length with the extension kept, and never overwrites a file.
    Content already saved is not written again (`skipped` says so, `saved` names the earlier copy); a file over
    the size limit is not written at all (`skipped` says why). Without `manifest`, the inbox's manifest is
    opened under its lock for this one file (the web upload); collect passes the one it holds."""
    inbox = Path(inbox)
    if manifest is None:
        with locked_manifest(inbox, (limits or Limits()).lock_wait) as held:
            return save_into_inbox(inbox, name, data, sender=sender, message_id=message_id, date=date,
                                   department=department, kind=kind, content_type=content_type, limits=limits,
                                   manifest=held)
    limits = limits or Limits()
    original = clean_name(name)
    sender = printable(sender)
    result = SavedFile(original=original, saved=None, kind=kind or kind_of(original, content_type) or EVIDENCE,
                       department=department, message_id=message_id, sender=sender,
                       date=date.isoformat() if isinstance(date, dt.datetime) and 1 <= date.year else "")
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=inbox)
    tmp = Path(tmp_name)
    try:
        digest, size, head = hashlib.sha256(), 0, b""
        with os.fdopen(fd, "wb") as out:
            for block in _chunks(data):
                size += len(block)
                if size > limits.file_bytes:
                    result.size = size
                    result.skipped = f"超过单个文件大小上限 {mb(limits.file_bytes)}（unit.yaml 的 mail.max_file_mb）"
                    return result
                if len(head) < 4096:
                    head += block[:4096 - len(head)]
                digest.update(block)
                out.write(block)
        result.sha256, result.size = digest.hexdigest(), size
        if not split_suffix(original)[1]:
            original = (original or "附件") + suffix_for(result.kind, content_type, head)
            result.original = original
        earlier = manifest.known_file(result.sha256)
        if earlier is not None:
            result.saved, result.skipped = earlier.get("saved"), "已保存过相同内容"
            result.department = result.department or earlier.get("department")
            return result
        who = cut_bytes(clean_name(sender) or "未知发件人", MAX_SENDER_BYTES)
        target = _free_name(inbox, saved_name(f"{_stamp(date)}-{who}-", original))
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
        result.saved = target.name
        manifest.add_file(result)
        return result
    finally:
        if tmp.exists():
            tmp.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def set_department(manifest: Manifest, saved: SavedFile, department: str | None) -> None:
    """Record the department found after saving (a workbook's 填报信息) in the file's manifest entry."""
    saved.department = department
    for entry in reversed(manifest.files):
        if entry.get("saved") == saved.saved and entry.get("sha256") == saved.sha256:
            entry["department"] = department
            return


__all__ = ["EVIDENCE", "Limits", "MANIFEST", "Manifest", "SavedFile", "WORKBOOK", "clean_name", "kind_of",
           "locked_manifest", "printable", "save_into_inbox", "saved_name", "withdraw"]
