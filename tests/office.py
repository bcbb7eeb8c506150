"""Real LibreOffice Calc files for the tests: values are typed into cells as a user would type them.

Two halves in one file:
- imported by the tests (the project's venv): `calc_files(specs, folder)` writes the specs as JSON and runs this
  same file with the system Python that has LibreOffice's `uno` module (`/usr/bin/python3`);
- run as a script by that Python: starts a headless soffice with its own profile, creates each document, types
  every value through Calc's own input line (`.uno:EnterString`, so Calc's number and date recognition of the
  document's locale applies: `3.2.2` typed under zh-CN becomes a date), merges cells, sets number formats and the
  1904 date system, and stores it with the requested filter (xlsx, xls, ods). No value is written by us as a
  number or a date: Calc decides, as it does for a person at the keyboard. (Text without a digit, which Calc has
nothing to recognise in, is set as text directly: typing CJK words through the dispatcher crashed headless soffice
7.4 now and then; so did changing its AutoInput or spell-check options at run time, which are left alone: the
dispatcher's EnterString does not autocomplete.)

A spec: {"name": "x.ods", "filter": "calc8", "locale": "zh-CN", "null_date_1904": false,
         "sheets": [{"name": "人员名单", "rows": [["序号", "姓名"], ["1", "张三"]],
                     "merge": ["B3:B4"], "formats": {"I3:I9": "YYYY-MM-DD"}}]}
`formats` are applied before typing (a column formatted as a date, then a number typed into it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SYSTEM_PYTHON = os.environ.get("WENMING_UNO_PYTHON", "/usr/bin/python3")  # as tests/conftest.py
FILTERS = {".xlsx": "Calc Office Open XML", ".xls": "MS Excel 97", ".ods": "calc8"}


def available() -> bool:
    """LibreOffice and its Python bridge are installed (CI installs both)."""
    if not (shutil.which("soffice") and Path(SYSTEM_PYTHON).exists()):
        return False
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, timeout=60)
    return probe.returncode == 0


def calc_files(specs: list[dict], folder: Path, timeout: float = 240) -> dict[str, Path]:
    """Make every file of `specs` in `folder` with LibreOffice Calc; returns {name: path}."""
    folder.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        spec.setdefault("filter", FILTERS[Path(spec["name"]).suffix.lower()])
    with tempfile.TemporaryDirectory(prefix="lo-intake-") as tmp:
        job = Path(tmp) / "specs.json"
        job.write_text(json.dumps({"folder": str(folder), "files": specs}, ensure_ascii=False), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        done = subprocess.run([SYSTEM_PYTHON, str(Path(__file__).resolve()), str(job)], capture_output=True,
                              text=True, timeout=timeout, env=env, cwd=tmp)
        if done.returncode != 0:
            raise RuntimeError(f"LibreOffice helper failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    out = {spec["name"]: folder / spec["name"] for spec in specs}
    missing = [n for n, p in out.items() if not p.is_file()]
    if missing:
        raise RuntimeError(f"LibreOffice did not write {missing}")
    return out


# ---------------------------------------------------------------- the UNO half (system Python)

def _prop(name, value):
    import uno
    from com.sun.star.beans import PropertyValue
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def _connect(pipe: str, deadline: float):
    import uno
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    while True:
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except Exception:  # noqa: BLE001 - soffice is still starting
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse"><value>{locale}</value></prop></item>
</oor:items>
"""


def _start(locale: str):
    """A headless soffice whose profile's Locale setting (Tools > Options > Language Settings) is `locale`:
    the locale Calc recognises typed numbers and dates with. Set in the profile before start: changing the
    configuration at run time made soffice 7.4 abort in a timer a little later."""
    profile = Path(tempfile.mkdtemp(prefix="lo-intake-profile-"))
    (profile / "user").mkdir()
    (profile / "user" / "registrymodifications.xcu").write_text(_SETTINGS.format(locale=locale), encoding="utf-8")
    pipe = f"intake{os.getpid()}x{time.monotonic_ns()}"
    proc = subprocess.Popen(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible",
                             "--nologo", "--norestore", "--nodefault", f"--accept=pipe,name={pipe};urp;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx = _connect(pipe, time.monotonic() + 90)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    return proc, profile, ctx, desktop


def _stop(proc, profile: Path, desktop) -> None:
    try:
        desktop.terminate()
    except Exception:  # noqa: BLE001 - the bridge closes as soffice exits
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)
    shutil.rmtree(profile, ignore_errors=True)


def _make(ctx, desktop, spec: dict, folder: Path) -> None:
    (folder / spec["name"]).unlink(missing_ok=True)
    import uno
    smgr = ctx.ServiceManager
    dispatcher = smgr.createInstanceWithContext("com.sun.star.frame.DispatchHelper", ctx)
    doc = desktop.loadComponentFromURL("private:factory/scalc", "_blank", 0, (_prop("Hidden", True),))
    try:
        if spec.get("null_date_1904"):
            date = uno.createUnoStruct("com.sun.star.util.Date")
            date.Year, date.Month, date.Day = 1904, 1, 1
            doc.NullDate = date
        sheets = doc.Sheets
        for i, sheet_spec in enumerate(spec["sheets"]):
            if i < sheets.Count:
                sheets.getByIndex(i).Name = sheet_spec["name"]
            else:
                sheets.insertNewByName(sheet_spec["name"], i)
        while sheets.Count > len(spec["sheets"]):
            sheets.removeByName(sheets.getByIndex(sheets.Count - 1).Name)
        frame = doc.CurrentController.Frame
        for sheet_spec in spec["sheets"]:
            sheet = sheets.getByName(sheet_spec["name"])
            doc.CurrentController.setActiveSheet(sheet)
            for ref, fmt in sheet_spec.get("formats", {}).items():
                formats = doc.NumberFormats
                locale = uno.createUnoStruct("com.sun.star.lang.Locale")
                key = formats.queryKey(fmt, locale, False)
                if key == -1:
                    key = formats.addNew(fmt, locale)
                sheet.getCellRangeByName(ref).NumberFormat = key
            for r, row in enumerate(sheet_spec["rows"]):
                for c, text in enumerate(row):
                    if text is None or text == "":
                        continue
                    cell = sheet.getCellByPosition(c, r)
                    if not any(ch.isdigit() for ch in str(text)):
                        cell.setString(str(text))  # words: nothing for Calc to recognise
                        continue
                    doc.CurrentController.select(cell)
                    dispatcher.executeDispatch(frame, ".uno:EnterString", "", 0, (_prop("StringName", str(text)),))
            for ref in sheet_spec.get("merge", []):
                sheet.getCellRangeByName(ref).merge(True)
        target = folder / spec["name"]
        ascii_name = folder / f".lo-{os.getpid()}-{abs(hash(spec['name']))}{target.suffix}"  # soffice's file
        doc.storeToURL(ascii_name.resolve().as_uri(),                                 # names are ASCII here
                       (_prop("FilterName", spec["filter"]), _prop("Overwrite", True)))
        os.replace(ascii_name, target)
    finally:  # documents stay open until soffice ends: closing one made soffice 7.4 abort now and then
        pass


def _main(job_file: str) -> None:
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    folder = Path(job["folder"])
    for locale in sorted({spec.get("locale", "zh-CN") for spec in job["files"]}):
        todo = [spec for spec in job["files"] if spec.get("locale", "zh-CN") == locale]
        attempts = 0
        while todo:
            proc, profile, ctx, desktop = _start(locale)
            try:
                while todo:
                    _make(ctx, desktop, todo[0], folder)
                    todo.pop(0)
            except Exception:  # noqa: BLE001 - soffice died (it sometimes aborts on closing a document)
                if (folder / todo[0]["name"]).is_file():
                    todo.pop(0)  # stored before the crash: keep it, go on with a fresh soffice
                attempts += 1
                if attempts > 3 * len(job["files"]) + 3:
                    raise
            finally:
                if proc.poll() is None:
                    _stop(proc, profile, desktop)
                else:
                    shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    _main(sys.argv[1])
