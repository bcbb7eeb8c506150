"""Benchmark of `archive` on a city-scale inbox with evidence: N units, two photos per activity.

The inbox is the `report` benchmark's (bench/generate.py: 100 activities per unit) with every activity's
佐证材料 cell naming two photos, and those photos in a folder per unit. Measured, each in its own child process
(peak RSS its own):

1. **plain copy**: copying the inbox's evidence into a folder and into a stored ZIP (what `archive` must at least
   do with the bytes);
2. **archive**: `build_archive` (read and match, stage, 活动记录单 with embedded photos, 提交表, 目录, department
   archives, task ledger, ZIP), with its stages.

Peak memory must not depend on the evidence's size: `--photo-kb` changes the size of each photo, not their count.
Run: python bench/archive_bench.py --units 100 1000 [--photo-kb 8 64]
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing as mp
import os
import resource
import shutil
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import generate as gen  # noqa: E402

ACTIVITY_ROWS = gen.ACTIVITY_ROWS


def _photos(kb: int) -> list[bytes]:
    """A few distinct JPEGs of about kb kilobytes each, with EXIF dates."""
    import random

    from PIL import Image
    rng = random.Random(kb)
    out = []
    for k in range(4):
        side = 64
        while True:  # noise compresses badly: grow the picture until it reaches the size wanted
            im = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
            exif = Image.Exif()
            exif[0x0132] = f"2026:0{k + 3}:05 10:00:00"
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=60, exif=exif)
            if buf.tell() >= kb * 1024 or side > 4096:
                break
            side = int(side * 1.25)
        out.append(buf.getvalue())
    return out


def _base_with_names(base: bytes) -> bytes:
    """The base workbook with every activity's 佐证材料 naming its two photos."""
    from openpyxl import load_workbook

    from pipeline.templates import HEADER_ROW
    wb = load_workbook(io.BytesIO(base))
    ws = wb["活动记录"]
    for r in range(ACTIVITY_ROWS):
        ws.cell(HEADER_ROW + 1 + r, 10, f"活动{r}-1.jpg、活动{r}-2.jpg")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def generate(n: int, kb: int, folder: Path) -> tuple[Path, Path]:
    inbox, cfg_dir = folder / "inbox", folder / "config"
    stamp = folder / f".complete-{n}-{kb}"
    if stamp.exists():
        return inbox, cfg_dir
    if folder.exists():
        shutil.rmtree(folder)
    inbox.mkdir(parents=True)
    gen.write_config(cfg_dir, n)
    from pipeline.catalog import load_config
    config = load_config(ROOT / "config")
    bases = [_base_with_names(gen._base(config, seed)) for seed in range(min(gen.BASES, n))]
    photos = _photos(kb)
    for i in range(1, n + 1):
        name = gen.unit_name(i)
        (inbox / f"{name}-文明单位创建台账.xlsx").write_bytes(gen._personalise(bases[i % len(bases)], name))
        folder_i = inbox / name
        folder_i.mkdir()
        for r in range(ACTIVITY_ROWS):
            for k in (1, 2):
                (folder_i / f"活动{r}-{k}.jpg").write_bytes(photos[(r + k + i) % len(photos)])
    stamp.write_text("ok")
    return inbox, cfg_dir


def plain_copy(inbox: str, out: str) -> dict:
    """Every evidence file copied into a folder and into a stored ZIP."""
    target = Path(out) / "copy"
    files = [p for p in Path(inbox).rglob("*.jpg")]
    for p in files:
        dst = target / p.relative_to(inbox)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dst)
    with zipfile.ZipFile(Path(out) / "copy.zip", "w", zipfile.ZIP_STORED) as zf:
        for p in files:
            zf.write(target / p.relative_to(inbox), p.relative_to(inbox).as_posix())
    size = sum(p.stat().st_size for p in files)
    return {"files": len(files), "bytes": size}


def _warm(inbox: Path) -> None:
    """Read every file of the inbox once (not timed), so neither measurement pays for cold reads alone."""
    for p in inbox.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                while f.read(1 << 20):
                    pass


def run_archive(inbox: str, config: str, out: str) -> dict:
    from pipeline.catalog import load_config
    from pipeline.documents.archive import build_archive
    result = build_archive(inbox, out, load_config(config), count_pages=False)
    return {"stages": result.timings, "materials": len(result.materials), "copied_bytes": result.copied_bytes,
            "zip_bytes": result.zip_path.stat().st_size, "missing": len(result.missing),
            "unassigned": len(result.unassigned)}


def _child(func, args, queue) -> None:
    start = time.perf_counter()
    info = func(*args)
    queue.put({"seconds": round(time.perf_counter() - start, 2),
               "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), **info})


def measure(func, *args) -> dict:
    queue: mp.Queue = mp.get_context("fork").Queue()
    proc = mp.get_context("fork").Process(target=_child, args=(func, args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description="分类档案性能基准")
    ap.add_argument("--units", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--photo-kb", type=int, nargs="+", default=[8])
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "work" / "archive")
    ap.add_argument("--results", type=Path, default=ROOT / "bench" / "archive_results.json")
    ap.add_argument("--append", action="store_true", help="add to the results file instead of replacing it")
    args = ap.parse_args()
    runs = []
    for n in args.units:
        for kb in args.photo_kb:
            t = time.perf_counter()
            inbox, cfg = generate(n, kb, args.work / f"{n}-{kb}")
            made = round(time.perf_counter() - t, 1)
            out = args.work / f"out-{n}-{kb}"
            for sub in ("copy", "archive"):
                shutil.rmtree(out / sub, ignore_errors=True)
                (out / sub).mkdir(parents=True)
            _warm(inbox)   # both measurements start with the inbox in the page cache (the copy ran first, cold, before)
            load = [round(os.getloadavg()[0], 2)]   # the machine is shared: the load around each measurement
            copy = measure(plain_copy, str(inbox), str(out / "copy"))
            load.append(round(os.getloadavg()[0], 2))
            shutil.rmtree(out / "copy")
            arch = measure(run_archive, str(inbox), str(cfg), str(out / "archive"))
            load.append(round(os.getloadavg()[0], 2))
            shutil.rmtree(out / "archive")
            row = {"units": n, "photo_kb": kb, "photos": copy["files"], "evidence_mb": round(copy["bytes"] / 2**20),
                   "generate_s": made, "plain_copy": copy, "archive": arch,
                   "archive_over_copy": round(arch["seconds"] / copy["seconds"], 2),
                   "load_average_1min": {"before_copy": load[0], "after_copy": load[1], "after_archive": load[2]},
                   "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
            runs.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    path = args.results
    previous = json.loads(path.read_text(encoding="utf-8")) if path.exists() and args.append else []
    path.write_text(json.dumps([*previous, *runs], ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
