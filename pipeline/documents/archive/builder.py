"""The `Builder`: standards' folders and numbers, each row's record and evidence files placed, unassigned files."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

from pipeline.catalog import Config
import pipeline.documents.archive.parallel as parallel
from pipeline.documents.archive.catalog import catalog_files
from pipeline.documents.archive.forms import record_sheet, submission_form
from pipeline.documents.archive.layout import UNASSIGNED_DIR, Material, circled, link, roman, safe_name
from pipeline.documents.archive.photos import PHOTOS_PER_SHEET, embeddable, file_date, read_photo, read_small
from pipeline.intake.evidence import EvidenceCheck, EvidenceFile, RowEvidence
from pipeline.issues import Issue, make_issue


PHOTO_FAR_DAYS = 30   # a photo taken further than this from its activity's date is noted in the 目录


class Builder:
    def __init__(self, result, check: EvidenceCheck, config: Config, year: int, root: Path, issues: list[Issue],
                 progress) -> None:
        self.result, self.check, self.config, self.year, self.root = result, check, config, year, root
        self.issues, self.progress = issues, progress
        self.materials: list[Material] = []
        self.missing: list[tuple[str, str, str, int, str]] = []
        self.acts = result.merged.used("activities")
        self.docs = result.merged.used("documents")
        self.act_cols = {c: self.acts[c].tolist() for c in self.acts.columns}
        self.doc_cols = {c: self.docs[c].tolist() for c in self.docs.columns}
        self.photo_info: dict[int, tuple] = {}   # evidence index -> (date taken, width, height, format)
        self.placed: dict[int, str] = {}         # evidence index -> its first arcname (for department links)
        self.index_of = {id(f): i for i, f in enumerate(check.files)}
        self.copied = 0
        self.markers: list[str] = []   # where the documents carry a 【待核实】 marker (listed on the console)
        from pipeline.documents.wording import load_wording
        self.wording = load_wording(config.dir)
        self.jobs: list[tuple] = []
        self.root_str = str(root)
        self.uses: dict[int, list[tuple[int, str]]] = {}   # evidence index -> the activities filing it
        for r in check.rows.get("activities", []):
            for i in r.files:
                self.uses.setdefault(i, []).append((r.position, r.title))

    # -------------------------------------------------------------- folders and numbers
    def build(self) -> None:
        fmt_ind, fmt_item, fmt_std = (self.config.evidence.numbering if self.config.evidence
                                      else ("{I}", "{I}-{j}", "{I}-{j}-{k})"))
        by_code = {s.standard.code: s for s in self.result.standards}
        rows_by_code: dict[str, list[RowEvidence]] = {}
        for kind in ("activities", "documents"):
            for r in self.check.rows.get(kind, []):
                for code in r.codes:
                    rows_by_code.setdefault(code, []).append(r)
        self.root.mkdir(parents=True)
        for i, ind in enumerate(self.config.indicators, 1):
            names = dict(I=roman(i), i=i)
            ind_dir = safe_name(f"{fmt_ind.format(**names, j=0, k=0, code=ind.code)} {ind.name}")
            for j, item in enumerate(ind.items, 1):
                item_dir = safe_name(f"{fmt_item.format(**names, j=j, k=0, code=item.code)} {item.name}")
                for k, std in enumerate(item.standards, 1):
                    number = fmt_std.format(**names, j=j, k=k, code=std.code)
                    folder = f"{ind_dir}/{item_dir}/{safe_name(f'{number} {std.short}', 40)}"
                    (self.root / folder).mkdir(parents=True)
                    self.jobs.append((by_code[std.code], number, folder, rows_by_code.get(std.code, [])))
        rows = sum(len(j[3]) for j in self.jobs)
        for part in parallel.in_processes(parallel.standard_job, self, len(self.jobs), rows >= parallel.PARALLEL_ROWS):
            materials, missing, issues, placed, copied, markers = part
            self.markers.extend(markers)
            self.materials.extend(materials)
            self.missing.extend(missing)
            self.issues.extend(issues)
            for idx, arc in placed.items():
                self.placed.setdefault(idx, arc)
            self.copied += copied
        self._unassigned()

    def run_standard(self, i: int) -> tuple:
        """One standard's folder; returns what it added (run in a worker process for large archives)."""
        sizes = len(self.materials), len(self.missing), len(self.issues), self.copied, len(self.markers)
        placed_before = dict(self.placed)
        self._standard(*self.jobs[i])
        placed = {k: v for k, v in self.placed.items() if k not in placed_before}
        out = (self.materials[sizes[0]:], self.missing[sizes[1]:], self.issues[sizes[2]:], placed,
               self.copied - sizes[3], self.markers[sizes[4]:])
        del self.materials[sizes[0]:], self.missing[sizes[1]:], self.issues[sizes[2]:], self.markers[sizes[4]:]
        self.copied = sizes[3]
        return out

    def _sorted_rows(self, rows: list[RowEvidence]) -> list[RowEvidence]:
        def key(r: RowEvidence):
            cols = self.act_cols if r.kind == "activities" else self.doc_cols
            day = cols["date"][r.position]
            return (r.kind != "activities", day or dt.date.min, cols["file"][r.position], cols["row"][r.position])
        return sorted(rows, key=key)

    def _standard(self, sres, number: str, folder: str, rows: list[RowEvidence]) -> None:
        std = sres.standard
        form = Material(number, "测评材料提交表", std.responsible_text or "、".join(std.responsible), None, "",
                        f"{folder}/{safe_name(number)} 测评材料提交表.docx", code=std.code, kind="form")
        self.materials.append(form)
        entries = []
        for n, r in enumerate(self._sorted_rows(rows), 1):
            entries.append(self._row_material(r, f"{number}-{circled(n)}", folder, std.code))
        text = submission_form(self.root / form.arcname, sres, number, entries, self.config, self.year, self.wording)
        if "【待核实" in text:
            self.markers.append(f"{number} 测评材料提交表：{std.short}")

    def _row_material(self, r: RowEvidence, number: str, folder: str, code: str) -> dict:
        cols = self.act_cols if r.kind == "activities" else self.doc_cols
        at = r.position
        files = [self.check.files[i] for i in r.files]
        label = "活动记录单" if r.kind == "activities" else "文件登记单"
        record = Material(number, f"{label}：{r.title}", r.department, cols["date"][at],
                          (cols["number"][at] or "") if r.kind == "documents" else "",
                          f"{folder}/{safe_name(f'{number} {label} {r.title}', 70)}.docx", pages=1, code=code,
                          kind="record")
        record.ledger = f"{cols['file'][at]} {cols['sheet'][at]} 第{int(cols['row'][at])}行"
        if r.missing:
            record.note = "缺：" + "、".join(r.missing)
            for name in r.missing:
                self.missing.append((r.department, cols["file"][at], cols["sheet"][at], int(cols["row"][at]), name))
        problems = r.problems.get(code, [])
        if problems:
            record.note = "；".join(filter(None, [record.note, *problems]))
        self.materials.append(record)
        placed = []
        embeds: dict[str, tuple | None] = {}   # number -> the photo as embedded (the first PHOTOS_PER_SHEET photos)
        for m, f in enumerate(files, 1):
            if f.path is None:
                continue  # its archive could not be unpacked (reported)
            idx = self.index_of[id(f)]
            fnum = f"{number}-{m}"
            arc = f"{folder}/{safe_name(f'{fnum} {f.original}', 80)}"
            data = read_small(f) if f.kind == "photo" else None   # a photo is read once: header, copy, embed
            info = self._photo(idx, f, data) if f.kind == "photo" else None
            mat = Material(fnum, f.original, f.department or r.department, file_date(f, info),
                           "", arc, source=f.path, code=code, evidence=f)
            if f.kind == "photo":
                mat.pages = 1
                mat.note = "；".join(self._photo_notes(idx, info, r, cols["date"][at]))
                if len(embeds) < PHOTOS_PER_SHEET:
                    embeds[fnum] = embeddable(f.path, info, data)
            self._copy(mat, data)
            del data
            self.materials.append(mat)
            self.placed.setdefault(idx, arc)
            placed.append((fnum, f, idx))
        record_sheet(self, r, record, cols, at, placed, code, embeds)
        return {"number": number, "label": label, "title": r.title, "department": r.department,
                "date": cols["date"][at], "files": len(placed), "missing": list(r.missing), "problems": problems}

    def _photo_notes(self, idx: int, info, r: RowEvidence, day) -> list[str]:
        """What the 目录 says of a photo (contract §8): filed for several activities, taken outside the year or
        far from its activity's date."""
        notes = []
        others = list(dict.fromkeys(title for pos, title in self.uses.get(idx, []) if pos != r.position))
        if r.kind == "activities" and others:
            notes.append(f"同一照片另用于{len(others)}项活动：{'、'.join(others[:3])}{'等' if len(others) > 3 else ''}")
        taken = file_date(None, info) if info else None
        if taken is not None:
            if taken.year != self.year:
                notes.append(f"拍摄于{taken.year}年{taken.month}月{taken.day}日，不在{self.year}年度内")
            elif r.kind == "activities" and isinstance(day, dt.date) and abs((taken - day).days) > PHOTO_FAR_DAYS:
                notes.append(f"拍摄日期{taken.month}月{taken.day}日与活动日期相差{abs((taken - day).days)}天")
        return notes

    def _unassigned(self) -> None:
        for n, i in enumerate(self.check.unassigned, 1):
            f = self.check.files[i]
            if f.path is None:
                continue
            owner = f.department or "部门未确定"
            arc = f"{UNASSIGNED_DIR}/{safe_name(owner)}/{safe_name(f'未归类-{n} {f.original}', 80)}"
            (self.root / UNASSIGNED_DIR / safe_name(owner)).mkdir(parents=True, exist_ok=True)
            data = read_small(f) if f.kind == "photo" else None
            info = self._photo(i, f, data) if f.kind == "photo" else None
            mat = Material(f"未归类-{n}", f.original, owner, file_date(f, info), "", arc, source=f.path,
                           pages=1 if f.kind == "photo" else None, note="未被台账引用，请核对归属", kind="unassigned",
                           evidence=f)
            self._copy(mat, data)
            self.materials.append(mat)
            self.placed.setdefault(i, arc)

    def _copy(self, m: Material, data: bytes | None = None) -> None:
        """The evidence file into its place: from the bytes already read (a photo), else copied by the OS
        (sendfile, never through Python); the inbox is only read."""
        target = os.path.join(self.root_str, m.arcname)   # strings, not Path: tens of thousands of files
        if data is not None:
            with open(target, "wb", buffering=0) as out:
                out.write(data)
            self.copied += len(data)
            return
        shutil.copyfile(m.source, target)
        self.copied += m.evidence.size if m.evidence is not None else os.path.getsize(target)

    # -------------------------------------------------------------- the 活动记录单 / 文件登记单
    def _photo(self, idx: int, f: EvidenceFile, data: bytes | None = None) -> tuple:
        """(date taken, width, height, format) of a photo, read once from its header (EXIF)."""
        if idx not in self.photo_info:
            self.photo_info[idx] = read_photo(f.path, data)
            taken = self.photo_info[idx][0]
            rules = self.config.evidence_rules("")
            if taken and rules.within_year and taken.year != self.year:
                self.issues.append(make_issue("evidence-photo-date", file=f.name, value=f.original,
                                              department=f.department, date=f"{taken:%Y-%m-%d}", year=self.year))
        return self.photo_info[idx]

    def run_department(self, i: int) -> None:
        """One department's 工作档案: its materials hard-linked from 分类档案, and its own 目录."""
        folder, dept, mats, missing, issues = self.dept_jobs[i]
        folder.mkdir(parents=True, exist_ok=True)
        base, made = os.fspath(folder), set()
        for m in mats:   # strings, not Path, and each folder made once: tens of thousands of links
            parts = m.arcname.split("/")
            sub = UNASSIGNED_DIR if m.kind == "unassigned" else parts[2]
            if sub not in made:
                os.makedirs(os.path.join(base, sub), exist_ok=True)
                made.add(sub)
            link(os.path.join(self.root_str, m.arcname), os.path.join(base, sub, parts[-1]))
        catalog_files(folder, f"{dept}文明单位创建工作档案目录", mats, missing, issues, stem=f"{safe_name(dept)}工作档案目录")

    # -------------------------------------------------------------- 档案目录
    def write_catalogs(self) -> None:
        catalog_files(self.root, f"{self.year}年{self.config.unit}文明单位创建分类档案目录", self.materials,
                       self.missing, self.issues)
