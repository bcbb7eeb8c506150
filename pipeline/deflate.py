"""Raw deflate streams (as zip members hold them) with ISA-L when installed, else zlib.

ISA-L inflates about twice and deflates several times as fast as zlib at the same format; the formula scan
of every submitted sheet and the city-scale ledger spend much of their time here."""

from __future__ import annotations

import zlib

try:
    from isal import isal_zlib as _fast
except ImportError:  # pragma: no cover - isal is pinned; zlib gives the same bytes-compatible format
    _fast = zlib

crc32 = _fast.crc32
crc32_combine = getattr(_fast, "crc32_combine", None)  # ISA-L has it; without it large sheets are not split


def compressor():
    """A raw deflate compressor at the fastest level (the ledger is written once, read rarely)."""
    return _fast.compressobj(1, zlib.DEFLATED, -15)


def inflate(raw: bytes, limit: int) -> bytes:
    """Inflate a raw deflate stream, stopping after `limit` bytes (a lying size header cannot blow up)."""
    return _fast.decompressobj(-15).decompress(raw, limit)
