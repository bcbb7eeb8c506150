"""Photos: read once (bytes, EXIF date, size from the JPEG header or Pillow), resized for a Word page."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from pathlib import Path

from pipeline.intake.evidence import EvidenceFile

PHOTOS_PER_SHEET = 4            # photos embedded in one 活动记录单 (the rest follow as files)
EMBED_MAX_BYTES = 400 * 1024    # larger photos are resized before embedding
EMBED_MAX_SIDE = 1600


def file_date(f: EvidenceFile | None, info) -> dt.date | None:
    if info and info[0]:
        return info[0].date() if isinstance(info[0], dt.datetime) else info[0]
    return None


READ_MAX = 32 * 1024 * 1024   # photos up to this size are read once into memory (header, copy, embed)


def read_small(f: EvidenceFile) -> bytes | None:
    """A photo's bytes when small enough to hold (one at a time): else None (copied by the OS instead)."""
    if f.path is None or f.size > READ_MAX:
        return None
    try:
        with open(f.path, "rb", buffering=0) as src:
            if os.fstat(src.fileno()).st_size > READ_MAX:
                return None
            data = src.readall()   # sized by fstat: no buffer of READ_MAX allocated per photo
    except OSError:
        return None
    return data if len(data) <= READ_MAX else None


def _taken(raw) -> dt.datetime | None:
    if not isinstance(raw, str):
        return None
    m = re.match(r"(\d{4})[:\-](\d{2})[:\-](\d{2})", raw.strip())
    if not m:
        return None
    try:
        return dt.datetime(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def read_photo(path: Path | None, data: bytes | None = None) -> tuple:
    """(EXIF date taken or None, width, height, format) from the header; (None, 0, 0, None) when unreadable.
    A plain JPEG's header is parsed here (Pillow costs about half a millisecond a photo); anything else, or a
    JPEG this parser is not sure of, goes through Pillow."""
    from PIL import Image, UnidentifiedImageError
    if data is not None:
        fast = jpeg_header(data)
        if fast is not None:
            return fast
    if path is None and data is None:
        return (None, 0, 0, None)
    try:
        with Image.open(io.BytesIO(data) if data is not None else path) as im:
            exif = im.getexif()
            raw = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)
            return (_taken(raw), im.width, im.height, im.format)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return (None, 0, 0, None)


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def jpeg_header(data: bytes) -> tuple | None:
    """(date taken, width, height, "JPEG") of a JPEG read from its markers up to the scan, as Pillow reports
    them (EXIF DateTimeOriginal, else DateTime, of the first Exif segment); None when unsure (not a JPEG, a
    multi-picture MPO file, a malformed segment or EXIF block, no frame header): Pillow decides then."""
    if data[:3] != b"\xff\xd8\xff":
        return None
    exif, size = None, None
    at, end = 2, len(data)
    while at + 4 <= end:
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:      # fill byte
            at += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        if marker == 0xD9:
            return None
        if marker == 0xDA:      # the scan: every header segment has been seen
            if size is None:
                return None
            taken = _exif_date(exif) if exif is not None else None
            return None if taken is False else (taken, size[0], size[1], "JPEG")
        length = int.from_bytes(data[at + 2:at + 4], "big")
        if length < 2 or at + 2 + length > end:
            return None
        seg = data[at + 4:at + 2 + length]
        if marker == 0xE1 and exif is None and seg[:6] == b"Exif\x00\x00":
            exif = seg[6:]
        elif marker == 0xE2 and seg[:4] == b"MPF\x00":
            return None         # Pillow opens these as MPO
        elif marker in _SOF and size is None:
            if len(seg) < 5:
                return None
            size = (int.from_bytes(seg[3:5], "big"), int.from_bytes(seg[1:3], "big"))
            if not size[0] or not size[1]:
                return None
        at += 2 + length
    return None


def _exif_date(tiff: bytes):
    """DateTimeOriginal (Exif IFD) or DateTime (IFD0) as a datetime, None when absent, False when unsure."""
    order = {b"II": "little", b"MM": "big"}.get(tiff[:2])
    if order is None or len(tiff) < 8:
        return False

    def u(at: int, n: int) -> int:
        return int.from_bytes(tiff[at:at + n], order)

    def entries(at: int) -> dict[int, tuple[int, int, int]] | None:
        if at < 8 or at + 2 > len(tiff):
            return None
        n = u(at, 2)
        if at + 2 + 12 * n > len(tiff):
            return None
        return {u(at + 2 + 12 * i, 2): (u(at + 4 + 12 * i, 2), u(at + 6 + 12 * i, 4), at + 10 + 12 * i)
                for i in range(n)}

    def ascii_value(entry) -> str | None | bool:
        kind, count, where = entry
        if kind != 2:
            return False
        start = where if count <= 4 else u(where, 4)
        if start + count > len(tiff):
            return False
        value = tiff[start:start + count]
        return (value[:-1] if value.endswith(b"\x00") else value).decode("latin-1", "replace")

    if u(2, 2) != 42:
        return False
    ifd0 = entries(u(4, 4))
    if ifd0 is None:
        return False
    original = None
    if 0x8769 in ifd0:
        kind, count, where = ifd0[0x8769]
        sub = entries(u(where, 4)) if kind in (4, 13) and count == 1 else None
        if sub is None:
            return False
        if 0x9003 in sub:
            original = ascii_value(sub[0x9003])
            if original is False:
                return False
    raw = original or None
    if not raw and 0x0132 in ifd0:
        raw = ascii_value(ifd0[0x0132])
        if raw is False:
            return False
    return _taken(raw)


def embeddable(path: Path, info: tuple, data: bytes | None = None) -> tuple[str, bytes, tuple[int, int]] | None:
    """The photo as (extension, bytes, size) for a Word page: as it is when small, else a resized JPEG."""
    from PIL import Image, ImageOps
    taken, w, h, fmt = info
    if not fmt:
        return None
    size = len(data) if data is not None else path.stat().st_size
    if fmt in ("JPEG", "PNG") and size <= EMBED_MAX_BYTES and max(w, h) <= EMBED_MAX_SIDE:
        return ("jpeg" if fmt == "JPEG" else "png", data if data is not None else path.read_bytes(), (w, h))
    try:
        with Image.open(io.BytesIO(data) if data is not None else path) as im:
            im.draft("RGB", (EMBED_MAX_SIDE, EMBED_MAX_SIDE))  # JPEG: decode at a reduced scale
            im = ImageOps.exif_transpose(im).convert("RGB")
            im.thumbnail((EMBED_MAX_SIDE, EMBED_MAX_SIDE))
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=82)
            return ("jpeg", buf.getvalue(), im.size)
    except (OSError, ValueError, SyntaxError):
        return None
