"""Evidence (佐证材料): the photos, PDF and Word files departments send beside their workbooks.

Listing is cheap (names and sizes; ZIP archives by their central directory) so that `report` stays fast;
`stage` unpacks ZIP archives safely into a staging folder for `archive`. Each file is attributed to a
department (manifest.json, else a folder or file name naming one), then matched to the 活动记录 and 制度文件
rows whose 佐证材料 cell names it. The evidence rules of the catalog are checked per row and per standard.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Iterable

from pipeline.catalog import Config, EvidenceRules
from pipeline.intake.ingest import SKIP_NAMES, WORKBOOK_SUFFIXES, inbox_files
from pipeline.issues import Issue, make_issue

if TYPE_CHECKING:
    from pipeline.intake.merge import Merged
    from pipeline.score import StandardResult

SPREADSHEETS = WORKBOOK_SUFFIXES | {".xlsb", ".ods", ".et"}
PHOTO = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".heic"}
KINDS = {**{s: "photo" for s in PHOTO}, ".pdf": "pdf", ".doc": "word", ".docx": "word", ".wps": "word",
         ".rtf": "word", ".odt": "word", ".ppt": "slides", ".pptx": "slides", ".dps": "slides", ".odp": "slides",
         ".mp4": "video", ".mov": "video"}
MANUAL_ARCHIVES = {".rar": "RAR", ".7z": "7z"}  # no well-kept pure-Python reader: kept and reported
MANIFEST = "manifest.json"

# limits that stop ZIP bombs before anything is unpacked (declared sizes) and while unpacking (bytes counted)
MAX_ZIP_ENTRIES = 2_000
MAX_ZIP_BYTES = 1024 * 1024 * 1024
MAX_ZIP_RATIO = 200          # a member that inflates more than this from its compressed size is a bomb
CHUNK = 1024 * 1024

SEPARATORS = re.compile(r"[、，,；;\r\n]+")
_QUOTES = str.maketrans("", "", "《》〈〉<>“”\"'‘’「」")


def _stem(name: str) -> str:
    """PurePosixPath(name).stem without building a path (hundreds of thousands of files at city scale)."""
    name = name.rstrip("/").rsplit("/", 1)[-1]
    i = name.rfind(".")
    return name[:i] if 0 < i < len(name) - 1 else name


@functools.lru_cache(maxsize=65536)   # folder names and common photo names repeat across departments
def name_key(text: str) -> str:
    """How file names are compared: width (NFKC) and case insensitive, without spaces and title quotes."""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return re.sub(r"\s+", "", text).translate(_QUOTES)


def split_names(cell) -> list[str]:
    """The file names of a 佐证材料 cell (separated by 、，,；; or line breaks)."""
    if cell is None:
        return []
    return [t.strip() for t in SEPARATORS.split(str(cell)) if t.strip()]


@dataclass
class EvidenceFile:
    name: str                     # as the user sees it: relative to the inbox; `照片.zip/学雷锋/1.jpg` in an archive
    original: str                 # the original file name (manifest.json when collect saved it)
    department: str | None
    size: int
    kind: str                     # photo | pdf | word | slides | video | archive | other
    path: Path | None             # on disk: in the inbox, or staged; None for a ZIP member not unpacked yet
    containers: tuple[str, ...] = ()   # folder and archive names above it (they can be named in a cell too)
    archive: Path | None = None   # the ZIP it comes from
    member: str | None = None     # its raw name inside that ZIP
    mtime: float = 0.0
    archive_name: str = ""        # the ZIP's name relative to the inbox
    aliases: tuple[str, ...] = () # other names the same content was sent under (manifest.json)

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.original).suffix.lower()

    @property
    def stem(self) -> str:
        return _stem(self.original)


@dataclass
class RowEvidence:
    """What one used 活动记录 / 制度文件 row named, found and lacks."""

    kind: str                     # activities | documents
    position: int                 # position in Merged.used(kind)
    department: str
    title: str
    codes: tuple[str, ...]
    files: list[int] = field(default_factory=list)     # indexes into EvidenceCheck.files
    missing: list[str] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)  # standard code -> failed rules (sentences)


@dataclass
class StandardEvidence:
    files: int = 0                # distinct files matched by its rows
    missing: int = 0              # names its rows give that match no file
    compliant: int = 0            # rows meeting every evidence rule
    reasons: list[str] = field(default_factory=list)


@dataclass
class EvidenceCheck:
    """The evidence of an inbox matched to the ledger rows: plain data for report, archive and the documents."""

    enabled: bool
    files: list[EvidenceFile]
    rows: dict[str, list[RowEvidence]]
    unassigned: list[int]
    issues: list[Issue]
    standards: dict[str, StandardEvidence]
    departments: list[str] | None = None   # whose rows were checked (None: every department's)

    def facts(self) -> dict:
        """scores.json's `evidence` block."""
        matched = {i for rows in self.rows.values() for r in rows for i in r.files}
        return {"checked": self.enabled, "departments_checked": self.departments,
                "files": len(self.files), "matched": len(matched),
                "missing": sum(len(r.missing) for rows in self.rows.values() for r in rows),
                "unassigned": [{"file": self.files[i].name, "department": self.files[i].department}
                               for i in self.unassigned]}


# ---------------------------------------------------------------- listing


def _manifest(inbox: Path) -> dict[str, list[dict]]:
    """saved name -> its manifest entries, the one that wrote it first (collect's manifest.json: identical content
    sent again under another name points to the earlier copy); a broken manifest is simply not used here."""
    try:
        data = json.loads((inbox / MANIFEST).read_text(encoding="utf-8"))
        out: dict[str, list[dict]] = {}
        for f in data.get("files", []):
            if isinstance(f, dict) and f.get("saved"):
                out.setdefault(str(f["saved"]).replace("\\", "/"), []).append(f)
        return out
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def _department(config: Config, parts: Iterable[str], cache: dict | None = None) -> str | None:
    """The first of the names (innermost folder first, the file name last) that names a department."""
    cache = {} if cache is None else cache
    for part in parts:
        if part not in cache:
            cache[part] = config.department_in_text(part)
        if cache[part]:
            return cache[part]
    return None


def list_evidence(inbox: Path, config: Config) -> tuple[list[EvidenceFile], list[Issue]]:
    """Every evidence file in the inbox (non-workbook files, subfolders, ZIP members), with its department.

    Cheap: names and sizes only; ZIP archives are read by their central directory, nothing is unpacked."""
    manifest = _manifest(inbox)
    seen: dict[str, str | None] = {}   # folder names repeat: each is looked up once
    files: list[EvidenceFile] = []
    issues: list[Issue] = []
    walked, _ = inbox_files(inbox)  # the inbox's one safe walk: no recursion, no links out, no FIFOs
    for path, rel in walked:
        fname = path.name
        suffix = path.suffix.lower()
        if suffix in SPREADSHEETS:
            continue
        try:
            st = os.stat(path)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        entries = manifest.get(rel) or manifest.get(fname) or [{}] if manifest else [{}]
        entry = entries[0]
        original = str(entry.get("original") or fname)
        aliases = tuple(str(e["original"]) for e in entries[1:] if e.get("original"))
        folders = tuple(rel.split("/")[:-1])   # rel is the walk's clean POSIX path
        dept = config.resolve_department(entry.get("department")) if entry.get("department") else None
        dept = dept or _department(config, reversed(folders), seen) \
            or _department(config, [PurePosixPath(original).stem], seen)
        if suffix == ".zip":
            members, found = list_zip(path, rel, config, dept, (*folders, original))
            files.extend(members)
            issues.extend(found)
            if members or found:
                continue
        if suffix in MANUAL_ARCHIVES:
            issues.append(make_issue("archive-manual", file=rel, department=dept, kind=MANUAL_ARCHIVES[suffix]))
        kind = "archive" if suffix in MANUAL_ARCHIVES or suffix == ".zip" else KINDS.get(suffix, "other")
        files.append(EvidenceFile(rel, original, dept, st.st_size, kind, path, folders, mtime=st.st_mtime,
                                  aliases=aliases))
    return files, issues


def member_name(info: zipfile.ZipInfo) -> str:
    """A member's name as its author wrote it: Chinese zip tools write GBK without the UTF-8 flag."""
    name = info.filename
    if info.flag_bits & 0x800:
        return name
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:
        return name
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return name


def safe_parts(name: str) -> tuple[str, ...] | None:
    """The path of a member as parts inside the target, or None when it would leave it (absolute, .., drive)."""
    text = name.replace("\\", "/")
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text):
        return None
    parts = []
    for part in text.split("/"):
        if part in ("", "."):
            continue
        if part == ".." or any(ord(c) < 32 for c in part):
            return None
        parts.append(part)
    return tuple(parts) or None


def _is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _zip_members(zf: zipfile.ZipFile) -> tuple[list[tuple[zipfile.ZipInfo, tuple[str, ...]]], list[str], str | None]:
    """(member, safe parts) of the files to unpack, unsafe names, and why the whole archive is refused."""
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        return [], [], f"有{len(infos)}个文件（上限{MAX_ZIP_ENTRIES}个）"
    total = sum(i.file_size for i in infos)
    if total > MAX_ZIP_BYTES:
        return [], [], f"解压后{total / 1024 / 1024:.0f} MB（上限{MAX_ZIP_BYTES // 1024 // 1024} MB）"
    for i in infos:
        if i.file_size > max(i.compress_size, 1) * MAX_ZIP_RATIO and i.file_size > CHUNK:
            return [], [], f"压缩比异常（{member_name(i)}：{i.compress_size}字节解压为{i.file_size}字节）"
        if i.flag_bits & 1:
            return [], [], None  # encrypted: reported by the caller as unreadable
    good, bad = [], []
    for i in infos:
        if i.is_dir():
            continue
        name = member_name(i)
        parts = safe_parts(name)
        if parts is None or _is_link(i):
            bad.append(name)
            continue
        leaf = parts[-1]
        if leaf.startswith((".", "~$")) or leaf.lower() in SKIP_NAMES or parts[0] == "__MACOSX":
            continue
        good.append((i, parts))
    return good, bad, None


def list_zip(path: Path, rel: str, config: Config, dept: str | None,
             containers: tuple[str, ...]) -> tuple[list[EvidenceFile], list[Issue]]:
    """The members of a ZIP as evidence files (central directory only), or the issue that stops it."""
    try:
        with zipfile.ZipFile(path) as zf:
            if any(i.flag_bits & 1 for i in zf.infolist()):
                return [], [make_issue("archive-unreadable", file=rel, department=dept, detail="压缩包有密码")]
            good, bad, refused = _zip_members(zf)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        return [], [make_issue("archive-unreadable", file=rel, department=dept, detail=exc.__class__.__name__)]
    if refused:
        return [], [make_issue("archive-too-large", file=rel, department=dept, detail=refused)]
    issues = [make_issue("archive-unsafe-entry", file=rel, value=b, department=dept) for b in bad]
    files = []
    for info, parts in good:
        leaf = parts[-1]
        member_dept = dept or _department(config, [*reversed(parts[:-1]), PurePosixPath(leaf).stem])
        suffix = PurePosixPath(leaf).suffix.lower()
        kind = "archive" if suffix in MANUAL_ARCHIVES or suffix == ".zip" else KINDS.get(suffix, "other")
        files.append(EvidenceFile(f"{rel}/{'/'.join(parts)}", leaf, member_dept, info.file_size, kind, None,
                                  (*containers, *parts[:-1]), archive=path, member=info.filename, archive_name=rel,
                                  mtime=dt.datetime(*info.date_time).timestamp() if info.date_time[0] >= 1980 else 0.0))
    return files, issues


class UnpackError(Exception):
    """A ZIP member turned out larger than declared or the archive broke while unpacking."""


def stage(files: list[EvidenceFile], staging: Path) -> list[Issue]:
    """Unpack the ZIP members among files into staging (streamed, bytes counted); sets each member's path.

    Nothing is written outside staging; a member that inflates past its declared size stops its archive."""
    issues: list[Issue] = []
    by_zip: dict[Path, list[EvidenceFile]] = {}
    for f in files:
        if f.archive is not None and f.path is None:
            by_zip.setdefault(f.archive, []).append(f)
    root = staging.resolve()
    for n, (archive, members) in enumerate(by_zip.items()):
        target = root / f"{n:05d}"
        written = 0
        try:
            with zipfile.ZipFile(archive) as zf:
                for f in members:
                    info = zf.getinfo(f.member)
                    parts = safe_parts(member_name(info))
                    dest = target.joinpath(*parts).resolve() if parts else None
                    if dest is None or not dest.is_relative_to(target):
                        raise UnpackError(f.member)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, open(dest, "wb") as out:
                        size = 0
                        while chunk := src.read(CHUNK):
                            size += len(chunk)
                            written += len(chunk)
                            if size > info.file_size or written > MAX_ZIP_BYTES:
                                raise UnpackError(f"{f.original} 超过声明的大小")
                            out.write(chunk)
                    f.path = dest
        except (UnpackError, zipfile.BadZipFile, OSError, KeyError, EOFError, NotImplementedError) as exc:
            issues.append(make_issue("archive-unreadable", file=members[0].archive_name,
                                     department=members[0].department, detail=f"解压出错：{exc}"[:80]))
            for f in members:
                f.path = None
    return issues


# ---------------------------------------------------------------- matching


class Index:
    """Evidence files by name key, per department, for matching the names in 佐证材料 cells."""

    def __init__(self, files: list[EvidenceFile]) -> None:
        self.keys: dict[str, list[int]] = {}
        self.own: dict[tuple[str, str | None], list[int]] = {}   # the same, per department (no scan per name)
        for i, f in enumerate(files):
            keys = {name_key(f.original), name_key(f.stem)}
            for alias in f.aliases:
                keys.update((name_key(alias), name_key(PurePosixPath(alias).stem)))
            if f.path is not None and f.archive is None:
                keys.add(name_key(f.path.name))  # the saved name (collect adds a date and sender)
            for c in f.containers:
                keys.add(name_key(c))
                keys.add(name_key(PurePosixPath(c).stem))
            for k in keys:
                if k:
                    self.keys.setdefault(k, []).append(i)
                    self.own.setdefault((k, f.department), []).append(i)
        self.files = files

    def find(self, name: str, department: str | None, host: str | None = None) -> list[int]:
        """Files a name means (contract §8): the row's own department's, else its 主办部门's, else files whose
        department is unknown; never another department's file merely because the names are equal."""
        key = name_key(name)
        found = self.keys.get(key)
        if found:
            own = self.own.get((key, department))
            if own:
                return list(own)
        else:
            stem = name_key(PurePosixPath(name).stem)
            found = self.keys.get(stem) if stem and stem != name_key(name) else None
            if found:  # `照片3.png` named, `照片3.jpg` sent: only a file whose own name has that stem
                found = [i for i in found if name_key(self.files[i].stem) == stem]
        if not found:
            return []
        for owner in dict.fromkeys((department, host, None)):
            hits = [i for i in found if self.files[i].department == owner]
            if hits:
                return hits
        return []

    def owners(self, name: str) -> list[str]:
        """The departments whose files carry this name (for the message when a row may not use them)."""
        found = self.keys.get(name_key(name)) or []
        return sorted({self.files[i].department for i in found if self.files[i].department})


def _enabled(config: Config, files: list[EvidenceFile]) -> bool:
    mode = config.evidence.enabled if config.evidence else "auto"
    return mode == "on" or (mode == "auto" and bool(files))


def _every_department(config: Config, force: bool) -> bool:
    """`enabled: true` (or archive's force) checks every department's rows; `auto` only those of departments that
    sent evidence of their own (see check_evidence)."""
    return force or (config.evidence.enabled if config.evidence else "auto") == "on"


def check_evidence(inbox: Path, config: Config, year: int, merged: "Merged",
                   files: list[EvidenceFile] | None = None, listing_issues: list[Issue] | None = None,
                   force: bool = False) -> EvidenceCheck:
    """Match the evidence of an inbox to the used 活动记录 and 制度文件 rows and check the catalog's rules.

    Every row is matched. The checks (names that match no file, the photo and caption rules) switch on per
    department: for a department with evidence of its own (a file attributed to it, or a file one of its rows
    names), not because some other file, say the coordinator's Word note, lies in the inbox."""
    if files is None:
        files, listing_issues = list_evidence(Path(inbox), config)
    issues = list(listing_issues or [])
    enabled = force or _enabled(config, files)
    rows: dict[str, list[RowEvidence]] = {"activities": [], "documents": []}
    standards: dict[str, StandardEvidence] = {}
    if not enabled:
        return EvidenceCheck(False, files, rows, [], issues, standards)
    index = Index(files)
    used: set[int] = set()
    files_of: dict[str, set[int]] = {}
    acts, docs = merged.used("activities"), merged.used("documents")
    matched: list[tuple[RowEvidence, dict, int]] = []
    for kind, frame in (("activities", acts), ("documents", docs)):
        cols = {c: frame[c].tolist() for c in frame.columns}
        n = len(frame)
        for pos in range(n):
            dept = cols["department"][pos]
            title = cols["title"][pos] or ""
            codes = tuple(cols["standard"][pos] or ())
            r = RowEvidence(kind, pos, dept, title, codes)
            host = config.resolve_department(cols["host"][pos]) if "host" in cols and cols["host"][pos] else None
            cell = cols["evidence"][pos] if "evidence" in cols else None
            names = split_names(cell)
            seen: dict[int, None] = {}
            for token in names:
                hits = index.find(token, dept, host)
                if hits:
                    seen.update(dict.fromkeys(hits))
                else:
                    r.missing.append(token)
            if kind == "documents" and title:
                hits = index.find(title, dept, host)
                seen.update(dict.fromkeys(hits))
                if not names and not hits:
                    r.missing.append(title)
            r.files = list(seen)
            used.update(r.files)
            matched.append((r, cols, pos))
    every = _every_department(config, force)
    checked = {f.department for f in files if f.department} | {r.department for r, _, _ in matched if r.files}
    for r, cols, pos in matched:
        if not (every or r.department in checked):
            r.missing = []  # this department sent no evidence (yet): nothing to check its rows against
        else:
            where = dict(file=cols["file"][pos], sheet=cols["sheet"][pos], row=int(cols["row"][pos]),
                         department=r.department)
            for token in r.missing:
                others = index.owners(token)   # equal names of other departments' files: never matched (§8)
                if others:
                    issues.append(make_issue("evidence-other-department", column="佐证材料", value=token,
                                             owner="、".join(others), **where))
                else:
                    issues.append(make_issue("evidence-missing", column="佐证材料", value=token, **where))
            _check_rules(r, cols, pos, files, config, year, issues, where)
        rows[r.kind].append(r)
        for code in r.codes:
            st = standards.setdefault(code, StandardEvidence())
            files_of.setdefault(code, set()).update(r.files)
            st.missing += len(r.missing)
            if not r.problems.get(code):
                st.compliant += 1
            for reason in r.problems.get(code, ()):
                if reason not in st.reasons:
                    st.reasons.append(reason)
    for code, st in standards.items():
        st.files = len(files_of.get(code, ()))
    unassigned = [i for i in range(len(files)) if i not in used]
    for i in unassigned:
        f = files[i]
        owner = f"{f.department}的" if f.department else "部门未确定的"
        issues.append(make_issue("evidence-unassigned", file=f.name, department=f.department, owner=owner))
    departments = None if every else sorted(d for d in checked if d)
    return EvidenceCheck(True, files, rows, unassigned, issues, standards, departments)


def _check_rules(r: RowEvidence, cols: dict, pos: int, files: list[EvidenceFile], config: Config, year: int,
                 issues: list[Issue], where: dict) -> None:
    """The catalog's evidence rules on one row, for each standard it is tagged with (rules may differ)."""
    photos = sum(1 for i in r.files if files[i].kind == "photo")
    found: dict[str, Issue] = {}
    for code in r.codes:
        rules: EvidenceRules = config.evidence_rules(code)
        failed = []
        if r.kind == "activities":
            if photos < rules.min_photos:
                failed.append(("evidence-photos-short" if photos else "evidence-photos-none",
                               dict(count=photos, min=rules.min_photos)))
            if rules.captions and (photos or rules.min_photos):
                lacking = [label for key, label in (("place", "地点"), ("host", "主办部门"))   # (no list per row:
                           if key not in cols or not str(cols[key][pos] or "").strip()]    # that was quadratic)
                if lacking:
                    failed.append(("evidence-caption", dict(fields="、".join(lacking))))
        else:
            doc_type = cols["type"][pos]
            if doc_type in rules.number_types and not str(cols["number"][pos] or "").strip():
                failed.append(("evidence-number-missing", dict(type=doc_type)))
            day = cols["date"][pos]
            if rules.within_year and isinstance(day, dt.date) and day.year != year:
                failed.append(("evidence-out-of-year", dict(date=day.isoformat()[:10], year=year)))
        for issue_code, extra in failed:
            issue = make_issue(issue_code, column="佐证材料", value=r.title, **where, **extra)
            found.setdefault(issue.message, issue)
            r.problems.setdefault(code, []).append(issue.message)
    issues.extend(found.values())


def apply_to_standards(results: list["StandardResult"], check: EvidenceCheck, config: Config) -> None:
    """Evidence facts on each standard's result, with the failed rules as its reasons. The status stays the
    contract's (section 5 counts used rows); only with `evidence_rules.affects_status: true` does a 达标 standard
    with fewer rows meeting the rules than its min_evidence become 佐证不足."""
    from pipeline.score import MET, WEAK
    if not check.enabled:
        return
    for s in results:
        ev = check.standards.get(s.standard.code, StandardEvidence())
        s.evidence_files, s.evidence_missing = ev.files, ev.missing
        s.evidence_reasons = list(ev.reasons)
        affects = bool(config.evidence and config.evidence.affects_status)  # off by default: contract §5 counts rows
        if affects and s.status == MET and ev.compliant < s.standard.min_evidence:
            s.status = WEAK
            s.evidence_reasons.append(f"符合佐证要求的活动和文件{ev.compliant}条，要求不少于{s.standard.min_evidence}条")
