"""Benchmark: the roll-up of many unit packages (`rollup`), against the contract's bound of 1,000 packages in
under 10 s on 2 cores with memory well under 1 GB.

python bench/rollup.py [--packages N ...]   (default: 100 1000)

One real report of the sample inbox is exported once; N packages are written from it, each with its own unit
name and its own scores.json (statuses and metric counts varied at random, seeded), the same documents and a
manifest with every file's SHA-256, so the roll-up verifies every byte as it would for real packages (about
110 KB each). The roll-up runs in a child process, so its peak memory (RSS, children included) is its own.
Packages are cached under bench/work/rollup-N/ (git-ignored); results go to bench/rollup_results.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import platform
import random
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = ROOT / "bench" / "work"
STATUSES = ("达标", "达标", "达标", "达标", "未达标", "佐证不足", "未填报")


def _template() -> tuple[dict, dict[str, bytes]]:
    """The sample inbox reported once: its scores and the bytes of its documents."""
    from pipeline.catalog import load_config
    from pipeline.report import collect, write_outputs
    os.environ.setdefault("WENMING_HISTORY", str(WORK / "rollup-history.sqlite"))
    with tempfile.TemporaryDirectory() as tmp:
        result = collect(ROOT / "examples" / "inbox", load_config(), None)
        write_outputs(result, Path(tmp))
        files = {p.name: p.read_bytes() for p in Path(tmp).iterdir()
                 if p.is_file() and p.suffix in (".docx", ".xlsx")}
        scores = json.loads((Path(tmp) / "scores.json").read_text(encoding="utf-8"))
    return scores, files


def generate(n: int) -> Path:
    folder = WORK / f"rollup-{n}"
    if folder.is_dir() and len(list(folder.glob("*.zip"))) == n:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.zip"):
        old.unlink()
    scores, files = _template()
    rng = random.Random(n)
    for i in range(n):
        s = json.loads(json.dumps(scores))
        s["unit"] = f"测试单位{i + 1:04d}"
        for st in s["standards"]:
            st["status"] = rng.choice(STATUSES)
        for m in s["metrics"].values():
            m["numerator"] = rng.randint(int(m["denominator"] * 0.7), m["denominator"])
            m["value"] = m["numerator"] / m["denominator"] if m["denominator"] else None
            m["passed"] = None if m["value"] is None else m["value"] > m["threshold"]
        blobs = {"scores.json": json.dumps(s, ensure_ascii=False, indent=2).encode(), **files}
        manifest = {"format": "wenming-unit-package", "format_version": 1, "unit": s["unit"], "year": s["year"],
                    "catalog": s["catalog"], "tool_version": "bench", "created_at": "2026-11-25T00:00:00",
                    "files": [{"name": k, "sha256": hashlib.sha256(v).hexdigest(), "size": len(v)}
                              for k, v in blobs.items()]}
        with zipfile.ZipFile(folder / f"{i + 1:04d}.zip", "w") as zf:
            zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False), compress_type=zipfile.ZIP_DEFLATED)
            for name, data in blobs.items():
                kind = zipfile.ZIP_DEFLATED if name.endswith(".json") else zipfile.ZIP_STORED
                zf.writestr(name, data, compress_type=kind)
    return folder


def _measure(packages: str, out: str, queue) -> None:
    from pipeline import jobs
    t0 = time.perf_counter()
    summary = jobs.rollup(packages, out).detail
    seconds = time.perf_counter() - t0
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    queue.put({"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "units": summary.n_units,
               "problems": len(summary.problem_lines), "load_before": round(os.getloadavg()[0], 1)})


def measure(folder: Path) -> dict:
    ctx = mp.get_context("spawn")   # a fresh interpreter: its imports and memory are the roll-up's own
    queue = ctx.Queue()
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        child = ctx.Process(target=_measure, args=(str(folder), out, queue))
        child.start()
        result = queue.get()
        child.join()
        result["seconds_with_start"] = round(time.perf_counter() - t0, 2)
    # peak RSS of the child and its pool workers (kB on Linux); the largest single process
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    result["package_mb"] = round(sum(p.stat().st_size for p in folder.glob("*.zip")) / 1e6)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--packages", type=int, nargs="+", default=[100, 1000])
    args = ap.parse_args()
    rows = {}
    for n in args.packages:
        folder = generate(n)
        rows[n] = measure(folder)
        r = rows[n]
        print(f"{n:>5} packages ({r['package_mb']} MB): roll-up {r['seconds']:.2f} s "
              f"({r['seconds_with_start']:.2f} s with the interpreter start; CPU {r['cpu_seconds']:.2f} s over all "
              f"processes), peak RSS {r['peak_rss_mb']} MB, {r['units']} units, {r['problems']} problems, "
              f"load average {r['load_before']}", flush=True)
    (ROOT / "bench" / "rollup_results.json").write_text(json.dumps({
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "processor": platform.processor()},
        "results": rows}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
