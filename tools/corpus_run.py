"""Run `report` over a corpus of other projects' real-world and fuzzer-found spreadsheets (issue 23 item 1).

    python tools/corpus_run.py REPO_GIT_DIR... [--work DIR] [--start-method fork|spawn|forkserver] [--fuzz N] [--web]

Each REPO_GIT_DIR is a bare git directory of a public repository (what the session's `fetch` tool brings, e.g.
github:tafia/calamine, github:python-excel/xlrd, github:apache/poi). Every spreadsheet in it (by extension) is
copied flat into one inbox (its repository and path in the name), `python -m pipeline report` runs over it in
its own process, and the script checks what issue 23 asks: the run ends with exit 0, every file is accounted
for in scores.json (an issue naming it, or a department's file, superseded or state files), and nothing a
reader library prints (xlrd's `WARNING *** file size …`, a Rust panic, a traceback) reaches the console.
Nothing foreign is committed; the corpus is rebuilt from the fetched repositories each time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlt", ".xlsb", ".ods", ".ots", ".et", ".ett", ".csv",
            ".fods", ".numbers"}
NOISE = re.compile(r"WARNING \*\*\*|panicked|Traceback|PanicException|PicklingError|memory allocation|"
                   r"RUST_BACKTRACE|Fatal Python error")


def gather(repos: list[Path], inbox: Path) -> list[str]:
    """Copy every spreadsheet of every repository into the inbox; the names given."""
    inbox.mkdir(parents=True, exist_ok=True)
    names = []
    for git_dir in repos:
        label = git_dir.parent.name.split("+")[-1] if git_dir.name == "repo" else git_dir.name
        listing = subprocess.run(["git", "--git-dir", str(git_dir), "ls-tree", "-r", "-z", "--name-only", "HEAD"],
                                 capture_output=True, check=True).stdout.decode("utf-8", "replace").split("\0")
        for path in listing:
            if Path(path).suffix.lower() not in SUFFIXES:
                continue
            blob = subprocess.run(["git", "--git-dir", str(git_dir), "show", f"HEAD:{path}"], capture_output=True)
            if blob.returncode != 0 or blob.stdout.startswith(b"version https://git-lfs"):
                continue  # not stored in the snapshot (large files), or an LFS pointer
            name = f"{label}__{path.replace('/', '__')}"
            (inbox / name).write_bytes(blob.stdout)
            names.append(name)
    return names


def fuzz(inbox: Path, count: int, seed: int = 23) -> list[str]:
    """`count` mutants of the example workbooks: a random member of each is changed in its XML (bytes flipped,
    cut short, a tag duplicated, a far reference) or the container itself is cut or flipped."""
    import random
    import zipfile
    rng = random.Random(seed)
    sources = sorted((ROOT / "examples" / "inbox").glob("*.xlsx"))
    names = []
    for k in range(count):
        src = rng.choice(sources)
        with zipfile.ZipFile(src) as zf:
            parts = [(i.filename, zf.read(i)) for i in zf.infolist()]
        how = rng.choice(["flip", "cut", "dup", "far", "container"])
        i = rng.randrange(len(parts))
        name, data = parts[i]
        if how == "flip" and data:
            data = bytearray(data)
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            data = bytes(data)
        elif how == "cut":
            data = data[:rng.randrange(len(data) + 1)]
        elif how == "dup" and b"<c " in data:
            at = data.index(b"<c ")
            data = data[:at] + b'<c r="XFD1048576" ' + data[at + 3:]
        elif how == "far":
            data = re.sub(rb'r="([A-Z]+)([0-9]+)"', lambda m: b'r="XFD%d"' % rng.choice([1, 99999, 1048576])
                          if rng.random() < 0.01 else m.group(0), data)
        parts[i] = (name, data)
        target = inbox / f"fuzz__{k:04d}-{how}-{src.name}"
        import io
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for n, d in parts:
                zf.writestr(n, d)
        blob = buf.getvalue()
        if how == "container":
            blob = bytearray(blob)
            for _ in range(rng.randint(1, 10)):
                blob[rng.randrange(len(blob))] = rng.randrange(256)
            blob = bytes(blob[:rng.randrange(len(blob) // 2, len(blob) + 1)])
        target.write_bytes(blob)
        names.append(target.name)
    return names


def accounted(scores: dict) -> set[str]:
    seen = {i.get("file") for i in scores.get("issues", []) if i.get("file")}
    for d in scores.get("departments", []):
        seen.update(filter(None, [d.get("file"), *d.get("superseded", []), *d.get("state_files", [])]))
    return seen


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("repos", nargs="+", type=Path)
    ap.add_argument("--work", type=Path, default=Path("/tmp/wenming-corpus"))
    ap.add_argument("--start-method", default=None)
    ap.add_argument("--fuzz", type=int, default=0, help="also this many mutants of the example workbooks")
    ap.add_argument("--web", action="store_true", help="also read the inbox in a 工作台 (HTTP on loopback)")
    args = ap.parse_args()
    if args.work.exists():
        shutil.rmtree(args.work)
    inbox, out = args.work / "inbox", args.work / "out"
    names = gather(args.repos, inbox) + fuzz(inbox, args.fuzz)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if args.start_method:
        env["WENMING_START_METHOD"] = args.start_method
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pipeline", "report", "--inbox", str(inbox), "--out", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - start
    console = done.stdout + done.stderr
    noise = sorted({m.group(0) for m in NOISE.finditer(console)})
    print(f"{len(names)} spreadsheets from {len(args.repos)} repositories and {args.fuzz} mutants; report exit {done.returncode} "
          f"in {seconds:.1f} s")
    if done.returncode != 0:
        print(console[-3000:])
        return 1
    scores = json.loads((out / "scores.json").read_text(encoding="utf-8"))
    missing = sorted(set(names) - accounted(scores))
    codes: dict[str, int] = {}
    for issue in scores["issues"]:
        if issue.get("file") in names and issue["level"] == "error":
            codes[issue["code"]] = codes.get(issue["code"], 0) + 1
    crashed = [i["file"] for i in scores["issues"] if i["code"] == "file-unreadable" and
               ("异常退出" in i["message"] or "内存超过上限" in i["message"] or "秒仍未完成" in i["message"])]
    print(f"accounted for in scores.json: {len(names) - len(missing)} of {len(names)}")
    print("error codes:", json.dumps(dict(sorted(codes.items(), key=lambda kv: -kv[1])), ensure_ascii=False))
    print(f"reader crashes, aborts, memory or time limits (isolated): {len(crashed)}")
    for name in crashed:
        print("   ", name)
    print("console noise:", noise or "none")
    for name in missing[:50]:
        print("  not accounted for:", name)
    web_missing = web(inbox, args.work / "web-out", names) if args.web else []
    return 0 if not missing and not noise and not web_missing else 1


def web(inbox: Path, out: Path, names: list[str]) -> list[str]:
    """The same inbox in a 工作台 serving on loopback: /api/status answers, and its run accounts for every file."""
    import http.client
    import threading
    sys.path.insert(0, str(ROOT))
    from pipeline.result import scores_dict
    from pipeline.web.server import start
    running = start(inbox, out, None, host="127.0.0.1", port=0)
    thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    thread.start()
    try:
        begin = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", running.server.server_port, timeout=3600)
        conn.request("GET", "/api/status", headers={"Host": f"127.0.0.1:{running.server.server_port}"})
        response = conn.getresponse()
        body = json.loads(response.read())
        missing = sorted(set(names) - accounted(scores_dict(running.bench.result())))
        print(f"工作台: GET /api/status {response.status} in {time.perf_counter() - begin:.1f} s, "
              f"{len(body['departments'])} departments; accounted for: {len(names) - len(missing)} of {len(names)}; "
              f"crashing files remembered: {len(running.bench.cache.crashed)}")
        return missing if response.status == 200 else names
    finally:
        running.stop()
        thread.join(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
