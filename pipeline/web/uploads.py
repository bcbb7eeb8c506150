"""Saving an uploaded file into the inbox as `collect` saves a mail attachment: never overwriting, identical
content stored once, recorded in the inbox's manifest.json. The one place that adapts the mailbox's saving
to uploads; when pipeline.mail exposes a public function for it, only this module changes."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from pipeline.atomic import atomic_path, atomic_write_json
from pipeline.catalog import Config
from pipeline.intake.ingest import WORKBOOK_SUFFIXES
from pipeline.mail.mailbox import MANIFEST, load_manifest

SENDER = "工作台上传"
EVIDENCE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".pdf", ".doc", ".docx", ".wps", ".txt", ".zip"}
ACCEPTED = WORKBOOK_SUFFIXES | {".ods", ".xlsb", ".et"} | EVIDENCE_SUFFIXES
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])$", re.I)
MAX_NAME_BYTES = 150   # with the date and sender prefix, well inside the 255 bytes every file system allows


@dataclass
class Upload:
    original: str
    saved: str | None = None
    sha256: str = ""
    refused: str | None = None      # why nothing was saved (a Chinese line)
    duplicate_of: str | None = None  # the same content was saved before under this name


def safe_name(name: str) -> str:
    """A file name that stays in the inbox on any system: no folders, no control or reserved characters,
    no Windows device names (CON, NUL, COM1…), not hidden, at most MAX_NAME_BYTES bytes, extension kept."""
    name = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/").split("/")[-1]
    name = re.sub(r'[\x00-\x1f\x7f<>:"|?*\u202a-\u202e\u2066-\u2069]', "_", name).strip(" .")
    name = name.lstrip(".").strip()
    stem, dot, suffix = name.rpartition(".") if "." in name else (name, "", "")
    if not stem:
        stem, dot, suffix = suffix or "上传文件", "", ""
    if _RESERVED.match(stem.split(".")[0].strip()):
        stem = "_" + stem
    suffix = (dot + suffix)[:16]
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return (stem.rstrip(" .") or "上传文件") + suffix


def _free_name(inbox: Path, name: str) -> Path:
    target = inbox / name
    stem, suffix = target.stem, target.suffix
    k = 1
    while target.exists():
        k += 1
        target = inbox / f"{stem}({k}){suffix}"
    return target


def save_upload(inbox: Path, original: str, data: bytes, config: Config, max_bytes: int,
                today: dt.date | None = None) -> Upload:
    """Save one uploaded file into the inbox, or say in Chinese why not."""
    name = safe_name(original)
    up = Upload(original=str(original or ""))
    suffix = Path(name).suffix.lower()
    if str(original or "").split("/")[-1].split("\\")[-1].startswith("~$"):
        up.refused = "这是 Office 打开文件时留下的临时文件（~$ 开头），不是台账，未保存"
        return up
    if suffix not in ACCEPTED:
        up.refused = (f"不支持的文件类型“{suffix or '无扩展名'}”：请上传 Excel 台账（.xlsx、.xls），"
                      "或照片、PDF、Word 等佐证材料")
        return up
    if len(data) > max_bytes:
        up.refused = f"文件过大（{len(data) / 1048576:.1f} MB），超过每个文件 {max_bytes // 1048576} MB 的上限，未保存"
        return up
    if not data:
        up.refused = "文件是空的（0 字节），未保存"
        return up
    up.sha256 = hashlib.sha256(data).hexdigest()
    inbox.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(inbox)
    known = {f.get("sha256"): f.get("saved") for f in manifest["files"]}
    if up.sha256 in known and (inbox / str(known[up.sha256])).is_file():
        up.duplicate_of = up.saved = str(known[up.sha256])
        return up
    day = (today or dt.date.today()).strftime("%Y%m%d")
    target = _free_name(inbox, f"{day}-{SENDER}-{name}")
    inbox_root = inbox.resolve()
    if target.resolve().parent != inbox_root:  # cannot happen after safe_name; checked all the same
        up.refused = "文件名无效，未保存"
        return up
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    up.saved = target.name
    manifest["files"].append({"message_id": "", "sender": SENDER, "date": dt.datetime.now().isoformat(timespec="seconds"),
                              "original": up.original, "saved": up.saved, "sha256": up.sha256,
                              "department": config.department_in_text(name)})
    atomic_write_json(inbox / MANIFEST, manifest)
    return up
