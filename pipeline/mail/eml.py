"""Collect from a folder of .eml files (as Outlook, Foxmail and web mail export them)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterator

from pipeline.catalog import Config
from pipeline.errors import MailError
from pipeline.mail.inbox import Limits, _test_kill, locked_manifest, printable
from pipeline.mail.messages import (Collected, MessageProblem, one_message, parse_stream, store_message,
                                    too_big)

MAX_FOLDER_DEPTH = 20


def _eml_files(root: Path, result: Collected) -> Iterator[tuple[Path, str]]:
    """Every *.eml under root (sorted, subfolders to a bounded depth, symlinked folders not followed)."""
    for folder, dirs, files in os.walk(root, followlinks=False):
        rel = Path(folder).relative_to(root)
        if len(rel.parts) >= MAX_FOLDER_DEPTH:
            dirs.clear()
            result.notes.append(f"{rel.as_posix()[:80]}…：文件夹层数超过 {MAX_FOLDER_DEPTH} 层，其中的邮件未读取")
            continue
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith(".eml"):
                yield Path(folder) / name, printable((rel / name).as_posix())


def collect_eml(eml_dir: Path, inbox: Path, config: Config, subject: str | None = None) -> Collected:
    """Save the workbooks and evidence of every .eml file in a folder; one bad file is reported and skipped."""
    eml_dir, inbox = Path(eml_dir), Path(inbox)
    if not eml_dir.is_dir():
        raise MailError(f"邮件文件夹不存在：{eml_dir}")
    limits = Limits.from_config(config)
    result = Collected()
    with locked_manifest(inbox, limits.lock_wait) as manifest:
        for path, label in _eml_files(eml_dir, result):
            try:
                fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
            except OSError as exc:
                result.problems.append(f"{label}：无法打开（{exc.strerror or exc.__class__.__name__}），已跳过")
                continue
            try:
                with one_message(result, label):
                    info = os.fstat(fd)
                    if not stat.S_ISREG(info.st_mode):
                        result.problems.append(f"{label}：不是普通文件（如管道或设备），已跳过")
                        continue
                    if info.st_size > limits.message_bytes:
                        raise MessageProblem(too_big(info.st_size, limits.message_bytes))
                    with os.fdopen(os.dup(fd), "rb") as stream:
                        msg, sha, size = parse_stream(stream, limits.message_bytes)
                    store_message(msg, sha, size, label, inbox, manifest, config, limits, result, subject)
            finally:
                os.close(fd)
            manifest.save()
            _test_kill("message")
    return result
