"""LibreOffice Writer's own word count (Tools > Word Count, 字数) of UTF-8 text files, for the 说明报告 tests.

Two halves in one file, as `office.py`:
- imported by the tests (the project's venv): `writer_word_counts(paths)` runs this same file with the system
  Python that has LibreOffice's `uno` module;
- run as a script by that Python: starts a headless soffice (its own profile, locale zh-CN), opens each file
  with the "Text (encoded)" filter as UTF-8 (what a coordinator does with the .txt before pasting it into the
  platform), marks its text as Chinese (zh-CN, Western and Asian) and reads the document's statistics
  (`WordCount`, `CharacterCount`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SYSTEM_PYTHON = os.environ.get("WENMING_UNO_PYTHON", "/usr/bin/python3")  # as tests/conftest.py


def writer_word_counts(paths: list[Path], timeout: float = 180) -> dict[Path, dict]:
    """{path: {"words": …, "characters": …}} as LibreOffice Writer counts them."""
    with tempfile.TemporaryDirectory(prefix="lo-words-") as tmp:
        job = Path(tmp) / "job.json"
        result = Path(tmp) / "result.json"
        job.write_text(json.dumps({"files": [str(p.resolve()) for p in paths], "out": str(result)}),
                       encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        done = subprocess.run([SYSTEM_PYTHON, str(Path(__file__).resolve()), str(job)], capture_output=True,
                              text=True, timeout=timeout, env=env, cwd=tmp)
        if done.returncode != 0 or not result.is_file():
            raise RuntimeError(f"LibreOffice word count failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        counts = json.loads(result.read_text(encoding="utf-8"))
    return {Path(p): counts[str(Path(p).resolve())] for p in paths}


def _main(job_file: str) -> None:
    import uno
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import office
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    proc, profile, _ctx, desktop = office._start("zh-CN")
    out = {}
    try:
        locale = uno.createUnoStruct("com.sun.star.lang.Locale")
        locale.Language, locale.Country = "zh", "CN"
        for name in job["files"]:
            doc = desktop.loadComponentFromURL(
                Path(name).as_uri(), "_blank", 0,
                (office._prop("Hidden", True), office._prop("FilterName", "Text (encoded)"),
                 office._prop("FilterOptions", "UTF8,LF,,zh-CN")))
            cursor = doc.Text.createTextCursor()
            cursor.gotoStart(False)
            cursor.gotoEnd(True)
            cursor.CharLocale = locale
            cursor.CharLocaleAsian = locale
            out[name] = {"words": int(doc.WordCount), "characters": int(doc.CharacterCount)}
    finally:
        office._stop(proc, profile, desktop)
    Path(job["out"]).write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    _main(sys.argv[1])
