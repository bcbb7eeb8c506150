"""Saving an uploaded file into the inbox exactly as `collect` saves a mail attachment, through the mail package's
one way in (`pipeline.mail.inbox.save_into_inbox`: streamed, hashed, size-limited, never overwriting, identical
content once, recorded in manifest.json under its lock). What is added here is only what an upload needs on top:
the names a browser may send, and which kinds of file the page accepts."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import IO

from pipeline.catalog import Config
from pipeline.mail.inbox import Limits, clean_name, kind_of, save_into_inbox

SENDER = "工作台上传"
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])$", re.I)


@dataclass
class Upload:
    original: str
    saved: str | None = None
    sha256: str = ""
    refused: str | None = None      # why nothing was saved (a Chinese line)
    duplicate_of: str | None = None  # the same content was saved before under this name


def safe_name(name: str) -> str:
    """A file name that stays in the inbox on any system: no folders, no control, bidi or reserved characters,
    no Windows device names (CON, NUL, COM1…), not hidden. (The saved name is cut to a safe byte length, its
    extension kept, by save_into_inbox.)"""
    name = clean_name(unicodedata.normalize("NFC", str(name or ""))).lstrip(".").strip()
    stem = name.split(".")[0].strip()
    if _RESERVED.match(stem):
        name = "_" + name
    return name or "上传文件"


def save_upload(inbox, original: str, data: bytes | IO[bytes], config: Config, max_bytes: int) -> Upload:
    """Save one uploaded file into the inbox, or say in Chinese why not."""
    up = Upload(original=str(original or ""))
    base = up.original.replace("\\", "/").split("/")[-1]
    if base.startswith("~$") or base.startswith(".~lock."):
        up.refused = "这是 Office 打开文件时留下的临时文件，不是台账，未保存"
        return up
    name = safe_name(original)
    if kind_of(name) is None:
        suffix = name.rpartition(".")[2] if "." in name else ""
        up.refused = (f"不支持的文件类型“{('.' + suffix) if suffix else '无扩展名'}”：请上传 Excel 台账（.xlsx、.xls），"
                      "或照片、PDF、Word 等佐证材料")
        return up
    limits = Limits.from_config(config)
    saved = save_into_inbox(inbox, name, data, sender=SENDER, department=config.department_in_text(name),
                            limits=Limits(max_bytes, limits.message_bytes, limits.lock_wait))
    up.sha256 = saved.sha256
    if saved.saved is None:
        up.refused = (f"文件过大（{saved.size / 1048576:.1f} MB 以上），超过每个文件 {max_bytes / 1048576:g} MB 的上限，"
                      "未保存" if saved.size > max_bytes else (saved.skipped or "未保存"))
    elif saved.skipped:
        up.duplicate_of = up.saved = saved.saved
    else:
        up.saved = saved.saved
    return up
