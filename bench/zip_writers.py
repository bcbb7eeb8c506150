"""The two hand-written ZIP writers against the standard zipfile (with ISA-L's deflate), side by side.

python bench/zip_writers.py [--pages N] [--rounds K]

1. a Word page of the 分类档案 (活动记录单 with two 8 KB photos): `ooxml._write_package` against the same parts
   written through `pipeline.deflate.ZipFile`;
2. the archive ZIP of a folder (10,000 photos of 8 KB, 2,000 small XML files in 20 folders): `archive._write_zip`
   against `deflate.ZipFile.write` per file.

Both outputs are checked to hold the same members. Wall and CPU seconds (this process) per round, and the
best-of ratio, go to bench/zip_results.json. A hand-written writer stays only where zipfile is more than
1.3x slower on this machine (issue 24).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import deflate  # noqa: E402
from pipeline.documents import archive, ooxml  # noqa: E402

_DT = (1980, 1, 1, 0, 0, 0)


def page_body() -> list[str]:
    fields = [("活动名称", "学习贯彻党的二十大精神专题讲座"), ("日期", "2026-03-05"), ("地点", "会议室"),
              ("内容", "活动内容" * 30)]
    return [ooxml.title("活动记录单"), ooxml.para("编号：A-001　　测评标准：1.1.1 理论学习", size=24, line=None, after=120),
            ooxml.table(fields, [1700, ooxml.TEXT_W - 1700], size=24, label_col=True),
            ooxml.para([ooxml.image("rIdImg1", 1, 7.0, 5.0, "照片1"), ooxml.image("rIdImg2", 2, 7.0, 5.0, "照片2")])]


def page_with_zipfile(target: Path, body, images, landscape: bool) -> None:
    """ooxml._write_package's parts, in the same order and with the same methods, through zipfile."""
    rels = "".join(f'<Relationship Id="rIdImg{k}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                   f'relationships/image" Target="media/image{k}.{ext}"/>' for k, (ext, _) in enumerate(images, 1))
    with deflate.ZipFile(target, "w") as zf:
        for name, text in (("[Content_Types].xml", ooxml._CONTENT_TYPES_FOOTER), ("_rels/.rels", ooxml._RELS),
                           ("word/_rels/document.xml.rels", ooxml._RELS_HEAD + rels + "</Relationships>"),
                           ("word/styles.xml", ooxml._STYLES), ("word/footer1.xml", ooxml._FOOTER)):
            zf.writestr(zipfile.ZipInfo(name, _DT), text)
        info = zipfile.ZipInfo("word/document.xml", _DT)
        info.compress_type, info._compresslevel = zipfile.ZIP_DEFLATED, 1
        with zf.open(info, "w") as member:
            for chunk in ooxml._chunks(body, (ooxml._section(landscape) + "</w:body></w:document>").encode()):
                member.write(chunk)
        for k, (ext, data) in enumerate(images, 1):
            zf.writestr(zipfile.ZipInfo(f"word/media/image{k}.{ext}", _DT), data)


def folder_with_zipfile(folder: Path, target: Path) -> None:
    """archive._write_zip's walk and methods, each file through zipfile's own write()."""
    root = os.fspath(folder)
    with deflate.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel = os.path.relpath(dirpath, root)
            prefix = f"{folder.name}/" if rel == "." else f"{folder.name}/{rel.replace(os.sep, '/')}/"
            for name in sorted(filenames):
                stored = os.path.splitext(name)[1].lower() in archive.STORED
                zf.write(os.path.join(dirpath, name), prefix + name,
                         zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)


def _timed(func) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    func()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description="手写 ZIP 与标准 zipfile 的对比")
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="zipbench-"))
    photos = [("jpeg", os.urandom(8192)) for _ in range(2)]
    folder = work / "档案"
    for d in range(20):
        (folder / f"部门{d}").mkdir(parents=True)
        for i in range(500):
            (folder / f"部门{d}" / f"照片{i}.jpg").write_bytes(os.urandom(8192))
        for i in range(100):
            (folder / f"部门{d}" / f"记录{i}.xml").write_text("<w:p>活动记录</w:p>" * 200, encoding="utf-8")
    cases = {
        "word page (活动记录单)": {
            "hand-written": lambda: [ooxml._write_package(work / f"a{i}.docx", page_body(), photos, False)
                                     for i in range(args.pages)],
            "zipfile": lambda: [page_with_zipfile(work / f"b{i}.docx", page_body(), photos, False)
                                for i in range(args.pages)]},
        "archive ZIP (12,000 files)": {
            "hand-written": lambda: archive._write_zip(folder, work / "a.zip"),
            "zipfile": lambda: folder_with_zipfile(folder, work / "b.zip")},
    }
    results = {"load_before": round(os.getloadavg()[0], 2), "cases": {}}
    for case, writers in cases.items():
        runs: dict[str, list] = {w: [] for w in writers}
        for _ in range(args.rounds):
            for w, func in writers.items():
                runs[w].append([round(x, 4) for x in _timed(func)])
        best = {w: (min(r[0] for r in rs), min(r[1] for r in rs)) for w, rs in runs.items()}
        results["cases"][case] = {"runs": runs, "zipfile_over_hand_written_wall": round(best["zipfile"][0] / best["hand-written"][0], 2),
                                  "zipfile_over_hand_written_cpu": round(best["zipfile"][1] / best["hand-written"][1], 2)}
        print(f"{case}: best wall {best['hand-written'][0]:.3f} s hand-written, {best['zipfile'][0]:.3f} s zipfile "
              f"({results['cases'][case]['zipfile_over_hand_written_wall']}x); best CPU "
              f"{best['hand-written'][1]:.3f} s / {best['zipfile'][1]:.3f} s "
              f"({results['cases'][case]['zipfile_over_hand_written_cpu']}x)")
    same = [zipfile.ZipFile(work / "a0.docx").namelist() == zipfile.ZipFile(work / "b0.docx").namelist(),
            zipfile.ZipFile(work / "a.zip").namelist() == zipfile.ZipFile(work / "b.zip").namelist()]
    assert all(same) and zipfile.ZipFile(work / "a.zip").testzip() is None
    results["load_after"] = round(os.getloadavg()[0], 2)
    print(f"load average {results['load_before']} before, {results['load_after']} after")
    (ROOT / "bench" / "zip_results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n",
                                                      encoding="utf-8")
    import shutil
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
