"""The archive ZIP: written front to back, UTF-8 names, compressed files stored, Zip64 where needed."""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path

from pipeline import deflate
from pipeline.atomic import atomic_path
import pipeline.documents.archive.photos as photos

STORED = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".zip", ".7z", ".rar", ".docx", ".xlsx", ".pptx",
          ".mp4", ".mov", ".pdf"}   # already compressed: stored as they are



def write_zip(folder: Path, target: Path) -> int:
    """The folder as a ZIP (UTF-8 flagged names, compressed files stored, the rest deflated): atomic. Written
    directly (one local header and the data in one write per file, no seeking back) rather than through
    zipfile, whose per-member cost dominated with tens of thousands of small photos; files larger than
    READ_MAX are streamed in 1 MB pieces, so memory stays bounded."""
    total = 0
    root = os.fspath(folder)
    with atomic_path(target) as tmp:
        with open(tmp, "wb", buffering=4 * 1024 * 1024) as out:
            zw = ZipWriter(out)
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames.sort()
                rel = os.path.relpath(dirpath, root)
                prefix = f"{folder.name}/" if rel == "." else f"{folder.name}/{rel.replace(os.sep, '/')}/"
                for name in sorted(filenames):
                    stored = os.path.splitext(name)[1].lower() in STORED
                    total += zw.add(os.path.join(dirpath, name), prefix + name, stored)
            zw.finish()
    return total


class ZipWriter:
    """A ZIP written front to back (Zip64 where sizes, offsets or the number of entries need it)."""

    def __init__(self, out) -> None:
        self.out, self.offset, self.central, self.count = out, 0, [], 0

    def add(self, path: str, arcname: str, stored: bool) -> int:
        st = os.stat(path)
        name = arcname.encode("utf-8")
        flags = 0 if arcname.isascii() else 0x800
        when = _dos_time(st.st_mtime)
        method = 0 if stored else 8
        start = self.offset
        if st.st_size <= photos.READ_MAX:
            with open(path, "rb") as src:
                data = src.read()
            size, crc = len(data), deflate.crc32(data)
            if not stored:
                comp = deflate.compressor()
                data = comp.compress(data) + comp.flush()
            csize = len(data)
            head = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, *when, crc, csize, size, len(name), 0)
            self.out.write(head + name)
            self.out.write(data)
            self.offset += len(head) + len(name) + csize
        else:   # streamed: a Zip64 local header whose checksum and sizes are filled in afterwards
            head = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, flags, method, *when, 0, 0xFFFFFFFF, 0xFFFFFFFF,
                               len(name), 20)
            self.out.write(head + name + struct.pack("<HHQQ", 1, 16, 0, 0))
            crc, size, csize = 0, 0, 0
            comp = None if stored else deflate.compressor()
            with open(path, "rb") as src:
                while chunk := src.read(1024 * 1024):
                    crc, size = deflate.crc32(chunk, crc), size + len(chunk)
                    if comp is not None:
                        chunk = comp.compress(chunk)
                    csize += len(chunk)
                    self.out.write(chunk)
                if comp is not None:
                    chunk = comp.flush()
                    csize += len(chunk)
                    self.out.write(chunk)
            end = self.out.tell()
            self.out.seek(start + 14)
            self.out.write(struct.pack("<I", crc))
            self.out.seek(start + 30 + len(name) + 4)
            self.out.write(struct.pack("<QQ", size, csize))
            self.out.seek(end)
            self.offset = end
        extra = b""
        fields = []
        if size >= 0xFFFFFFFF or csize >= 0xFFFFFFFF or start >= 0xFFFFFFFF:
            fields = [size, csize, start]
            extra = struct.pack("<HH3Q", 1, 24, *fields)
        version = 45 if extra else 20
        self.central.append(struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | version, version, flags, method, *when, crc,
            0xFFFFFFFF if extra else csize, 0xFFFFFFFF if extra else size, len(name), len(extra), 0, 0, 0,
            (st.st_mode & 0xFFFF) << 16, 0xFFFFFFFF if extra else start) + name + extra)
        self.count += 1
        return size

    def finish(self) -> None:
        start = self.offset
        for record in self.central:
            self.out.write(record)
        size = sum(len(r) for r in self.central)
        n = self.count
        if n >= 0xFFFF or start >= 0xFFFFFFFF or size >= 0xFFFFFFFF:
            where = start + size
            self.out.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, (3 << 8) | 45, 45, 0, 0, n, n, size, start))
            self.out.write(struct.pack("<IIQI", 0x07064B50, 0, where, 1))
            self.out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0))
        else:
            self.out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, size, start, 0))


def _dos_time(mtime: float) -> tuple[int, int]:
    """(DOS time, DOS date) of a modification time, clamped to 1980–2107 as zipfile does."""
    y, mo, d, h, mi, sec = time.localtime(mtime)[:6]
    if y < 1980:
        y, mo, d, h, mi, sec = 1980, 1, 1, 0, 0, 0
    elif y > 2107:
        y, mo, d, h, mi, sec = 2107, 12, 31, 23, 59, 59
    return (h << 11) | (mi << 5) | (sec // 2), ((y - 1980) << 9) | (mo << 5) | d
