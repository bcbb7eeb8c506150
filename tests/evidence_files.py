"""Real evidence files for the tests: JPEGs with EXIF dates, PDFs, Word files, ZIPs as Chinese zip tools write them."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path


class GbkZipInfo(zipfile.ZipInfo):
    """A member name as Chinese zip tools write it: GBK bytes without the UTF-8 flag."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


class RawZipInfo(zipfile.ZipInfo):
    """A member name written exactly as given (for hostile names such as ../../x)."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("utf-8"), self.flag_bits | 0x800


def jpeg_bytes(when: dt.date | None = dt.date(2026, 3, 5), size=(120, 90), color=(200, 80, 60)) -> bytes:
    from PIL import Image
    im = Image.new("RGB", size, color)
    buf = io.BytesIO()
    if when is None:
        im.save(buf, "JPEG", quality=70)
    else:
        exif = Image.Exif()
        stamp = f"{when:%Y:%m:%d} 09:30:00"
        exif[0x0132] = stamp
        exif.get_ifd(0x8769)[0x9003] = stamp
        im.save(buf, "JPEG", quality=70, exif=exif)
    return buf.getvalue()


def jpeg(path: Path, when: dt.date | None = dt.date(2026, 3, 5), **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(jpeg_bytes(when, **kw))
    return path


def pdf(path: Path, pages: int = 2) -> Path:
    from pypdf import PdfWriter
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        writer.write(fh)
    return path


def word(path: Path, text: str = "制度正文") -> Path:
    from docx import Document
    doc = Document()
    doc.add_paragraph(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    return path


def _zip(path: Path, members: dict[str, bytes], info: type[zipfile.ZipInfo]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(info(name, (2026, 3, 5, 0, 0, 0)), data)
    return path


def gbk_zip(path: Path, members: dict[str, bytes]) -> Path:
    return _zip(path, members, GbkZipInfo)


def raw_zip(path: Path, members: dict[str, bytes]) -> Path:
    return _zip(path, members, RawZipInfo)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root with its content (to prove a folder was not changed)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
