"""A unit package: one ZIP with scores.json, the documents and a manifest.json (SHA-256 per file), and
the safe reading of packages (ZIP or unpacked folder) for the roll-up.

Reading never extracts anything to disk and never trusts a name or a size from the archive: members are read
into memory with a hard byte limit, names that climb out of the package are refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pipeline.atomic import atomic_path
from pipeline.errors import StoreError
from pipeline.store.history import check_scores, tool_version

FORMAT = "wenming-unit-package"
FORMAT_VERSION = 1
DOCUMENT_SUFFIXES = (".docx", ".xlsx", ".pdf", ".json", ".txt")
MAX_MEMBER_BYTES = 64 * 1024 * 1024      # one file of a package
MAX_PACKAGE_BYTES = 256 * 1024 * 1024    # all files of a package, uncompressed
MAX_MEMBERS = 2_000
MAX_SCORES_BYTES = 64 * 1024 * 1024


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: Words in an output's file name that mark it internal, not for the upper level: the 创建工作情况提示（内部）,
#: the 校验报告 (each department's errors, names and values of its rows) and the 进度通报 with its 明细.
INTERNAL_MARKS = ("（内部）", "校验报告", "进度通报")


def is_internal(name: str) -> bool:
    return any(mark in name for mark in INTERNAL_MARKS)


def package_files(folder: Path, internal: bool = False) -> list[Path]:
    """The files of an output folder that go into a package: scores.json and the documents beside it (the
    internal ones only when asked)."""
    files = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith((".", "~$")) or path.name == "manifest.json":
            continue
        if path.suffix.lower() in DOCUMENT_SUFFIXES and (internal or not is_internal(path.name)):
            files.append(path)
    return files


def is_package(path: Path) -> bool:
    """True when the file is a unit package this tool wrote (a ZIP whose manifest.json names our format)."""
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo("manifest.json")
            if info.file_size > MAX_SCORES_BYTES:
                return False
            return json.loads(zf.read(info).decode("utf-8")).get("format") == FORMAT
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, UnicodeDecodeError, AttributeError):
        return False


def export_package(scores_dir: str | Path, out_file: str | Path, config=None, internal: bool = False) -> dict:
    """Write the unit package of a report output folder; returns its manifest. Refuses sample data and an
    `out_file` the tool did not write; leaves out the internal documents unless `internal`. With the profile in
    use (`config`), scores made with another profile are refused (ProfileMismatch, one Chinese line)."""
    folder = Path(scores_dir)
    scores_path = folder / "scores.json"
    if not scores_path.is_file():
        raise StoreError(f"{folder} 中没有 scores.json，请先运行 report 或用 --scores 指定 report 的输出文件夹")
    try:
        scores = json.loads(scores_path.read_text(encoding="utf-8"))
        check_scores(scores)
    except (UnicodeDecodeError, ValueError) as exc:
        raise StoreError(f"{scores_path} 格式有误（{exc}），请重新运行 report") from None
    if scores.get("sample"):
        raise StoreError(f"{folder} 中是示例数据的结果（make report 演示），不能打包报送；请用本单位的收件箱运行 report 后再打包")
    if config is not None:
        from pipeline.profile import ensure_same_profile
        ensure_same_profile(scores, config, "据此导出数据包")
    out = Path(out_file)
    if out.resolve().parent == folder.resolve() and out.suffix.lower() in DOCUMENT_SUFFIXES:
        raise StoreError("数据包不能写在 --scores 文件夹中并以文档扩展名命名，请换一个位置或改用 .zip")
    if out.is_dir():
        raise StoreError(f"--out 指定的“{out}”是一个文件夹，请写数据包的文件名，如 {out / '单位数据包.zip'}")
    if (out.exists() or out.is_symlink()) and not is_package(out):
        raise StoreError(f"“{out}”已存在，且不是本工具生成的数据包；为免覆盖，请换一个文件名")
    entries, blobs = [], []
    for path in package_files(folder, internal):
        data = path.read_bytes()
        entries.append({"name": path.name, "sha256": _sha256(data), "size": len(data)})
        blobs.append((path.name, data))
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "unit": scores["unit"], "year": scores["year"],
                "catalog": scores.get("catalog") or "", "tool_version": tool_version(),
                "created_at": dt.datetime.now().isoformat(timespec="seconds"), "files": entries}
    with atomic_path(out) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
            for name, data in blobs:
                # documents are already compressed ZIPs: store them, deflate the text
                kind = zipfile.ZIP_STORED if name.lower().endswith((".docx", ".xlsx", ".pdf")) else zipfile.ZIP_DEFLATED
                zf.writestr(name, data, compress_type=kind)
    return manifest


# --- reading --------------------------------------------------------------------------------------------

@dataclass
class Problem:
    """Why a package was refused or what is doubtful in it (one Chinese line)."""

    package: str
    kind: str          # broken-zip, unsafe, missing-scores, bad-scores, hash-mismatch, no-manifest, duplicate, ...
    message: str
    excluded: bool     # True when the package's figures are not in the roll-up
    unit: str = ""
    year: int | None = None

    def line(self) -> str:
        return f"{self.package}：{self.message}"


@dataclass
class Package:
    name: str                   # file or folder name, as the user sees it
    scores: dict | None = None
    manifest: dict | None = None
    created_at: str = ""
    mtime: float = 0.0
    problems: list[Problem] = field(default_factory=list)

    def problem(self, kind: str, message: str, excluded: bool) -> None:
        unit = str((self.scores or {}).get("unit") or (self.manifest or {}).get("unit") or "")
        year = (self.scores or {}).get("year") or (self.manifest or {}).get("year")
        self.problems.append(Problem(self.name, kind, message, excluded, unit, year if isinstance(year, int) else None))

    @property
    def usable(self) -> bool:
        return self.scores is not None and not any(p.excluded for p in self.problems)


def safe_name(name: str) -> bool:
    """A member name that stays inside the package: relative, no '..', no drive, no backslash."""
    if not name or "\\" in name or "\0" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return False
    return ".." not in PurePosixPath(name).parts


class _TooLarge(Exception):
    pass


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """The member's bytes, refusing more than limit whatever its header claims."""
    if info.file_size > limit:
        raise _TooLarge
    with zf.open(info) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise _TooLarge
    return data


def _ends_as_zip(path: Path) -> bool:
    """True when the file ends with a ZIP end record. A truncated package can still hold the end record of a
    document stored inside it, which zipfile would take for the package's own directory."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 65_557))
        tail = fh.read()
    pos = tail.rfind(b"PK\x05\x06")
    while pos >= 0:
        comment = int.from_bytes(tail[pos + 20:pos + 22], "little")
        if pos + 22 + comment == len(tail):
            return True
        pos = tail.rfind(b"PK\x05\x06", 0, pos)
    return False


def _members_zip(path: Path, pkg: Package) -> dict[str, bytes] | None:
    try:
        if not _ends_as_zip(path):
            raise zipfile.BadZipFile("no end record")
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if len(infos) > MAX_MEMBERS:
                pkg.problem("too-large", f"数据包中的文件过多（{len(infos)} 个），未汇总", True)
                return None
            unsafe = [i.filename for i in infos if not safe_name(i.filename)]
            if unsafe:
                pkg.problem("unsafe", f"数据包中有不安全的文件名（{unsafe[0]}），为安全起见未汇总；请重新导出", True)
                return None
            members, total = {}, 0
            for info in infos:
                data = _read_member(zf, info, min(MAX_MEMBER_BYTES, MAX_PACKAGE_BYTES - total))
                total += len(data)
                members[info.filename] = data
            return members
    except _TooLarge:
        pkg.problem("too-large", "数据包过大（解压后超出上限），未汇总；请只导出本单位的结果", True)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, RuntimeError, ValueError,
            NotImplementedError) as exc:
        pkg.problem("broken-zip", f"ZIP 文件已损坏或不完整（{exc.__class__.__name__}），未汇总；请重新导出后报送", True)
    return None


def _members_dir(path: Path, pkg: Package) -> dict[str, bytes] | None:
    root = path.resolve()
    members, total = {}, 0
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith((".", "~$")))
    if len(files) > MAX_MEMBERS:
        pkg.problem("too-large", f"文件夹中的文件过多（{len(files)} 个），未汇总", True)
        return None
    for file in files:
        rel = file.relative_to(path).as_posix()
        if not file.resolve().is_relative_to(root):
            pkg.problem("unsafe", f"文件夹中的 {rel} 指向文件夹之外，为安全起见未汇总", True)
            return None
        size = file.stat().st_size
        total += size
        if size > MAX_MEMBER_BYTES or total > MAX_PACKAGE_BYTES:
            pkg.problem("too-large", "数据包过大，超出上限，未汇总；请只导出本单位的结果", True)
            return None
        members[rel] = file.read_bytes()
    return members


def read_package(path: str | Path) -> Package:
    """Read one package (ZIP or folder); every problem is recorded on it, nothing raises."""
    path = Path(path)
    pkg = Package(path.name)
    try:
        pkg.mtime = path.stat().st_mtime
    except OSError:
        pass
    members = _members_dir(path, pkg) if path.is_dir() else _members_zip(path, pkg)
    if members is None:
        return pkg
    raw = members.get("scores.json")
    if raw is None:
        pkg.problem("missing-scores", "数据包中没有 scores.json，未汇总；请用 export 命令重新导出", True)
        return pkg
    if len(raw) > MAX_SCORES_BYTES:
        pkg.problem("too-large", "scores.json 过大，未汇总", True)
        return pkg
    try:
        scores = json.loads(raw.decode("utf-8"))
        check_scores(scores)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        pkg.problem("bad-scores", f"scores.json 格式有误（{exc}），未汇总；请重新运行 report 后导出", True)
        return pkg
    pkg.scores = scores
    manifest_raw = members.get("manifest.json")
    if manifest_raw is None:
        pkg.problem("no-manifest", "没有 manifest.json，无法核对文件是否完整；已按 scores.json 汇总", False)
        return pkg
    try:
        manifest = json.loads(manifest_raw.decode("utf-8"))
        files = manifest["files"]
        listed = {str(f["name"]): str(f["sha256"]) for f in files}
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        pkg.problem("bad-manifest", f"manifest.json 格式有误（{exc.__class__.__name__}），无法核对文件；"
                                    "已按 scores.json 汇总", False)
        return pkg
    pkg.manifest = manifest
    pkg.created_at = str(manifest.get("created_at") or "")
    if "scores.json" not in listed or _sha256(raw) != listed["scores.json"]:
        pkg.problem("hash-mismatch", "scores.json 与 manifest.json 记录的校验值（SHA-256）不符，文件可能被改动，"
                                     "未汇总；请重新导出后报送", True)
        return pkg
    changed = [n for n, h in listed.items() if n != "scores.json" and (n not in members or _sha256(members[n]) != h)]
    if changed:
        pkg.problem("hash-mismatch", f"{'、'.join(changed[:3])}{'等' if len(changed) > 3 else ''}与 manifest.json "
                                     "记录的校验值不符或缺失；测评数据未受影响，已汇总，请核对", False)
    if (manifest.get("unit"), manifest.get("year")) != (scores["unit"], scores["year"]):
        pkg.problem("manifest-mismatch", f"manifest.json 中的单位、年度（{manifest.get('unit')} {manifest.get('year')}）"
                                         "与 scores.json 不一致，未汇总；请重新导出", True)
    return pkg


def list_packages(folder: str | Path) -> list[Path]:
    """The packages in a folder: every .zip file and every sub-folder (hidden entries skipped)."""
    root = Path(folder)
    if not root.is_dir():
        raise StoreError(f"数据包文件夹不存在：{folder}")
    out = []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.name.startswith((".", "~$")):
            continue
        if entry.is_dir() or entry.name.lower().endswith(".zip"):
            out.append(root / entry.name)
    return out
