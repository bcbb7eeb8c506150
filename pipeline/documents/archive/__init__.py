"""The 分类档案: the evidence binder inspectors read, built from the ledgers and the files departments send.

`build_archive` reads the inbox like `report`, stages ZIP evidence safely, then writes into the output folder:
`分类档案/` (测评指标 › 测评项目 › 测评标准 folders; per standard its 测评材料提交表, a 活动记录单 per activity and
document followed by its evidence files renamed `编号 原文件名`; 档案目录 as xlsx and docx), `各部门工作档案/`
(the same materials per department, hard links where the file system allows, each with its own 目录),
`部门单位任务台账.xlsx`, and the ZIP `{年度}年{单位}文明单位创建分类档案.zip` (UTF-8 names, streamed, atomic).

One module per concern:
- `build`: the stages in order (`build_archive`, `ArchiveResult`);
- `layout`: folder names, numbers (Ⅰ, ①), safe file names, one 目录 entry (`Material`);
- `builder`: standards' folders, each row's record and evidence files placed, unassigned files;
- `forms`: 活动记录单 / 文件登记单 and 测评材料提交表, with the conclusion;
- `photos`: reading photos once (EXIF date, size) and resizing them for a Word page;
- `pages`: 页数 of PDF and Word files;
- `catalog`: the 档案目录 (xlsx and docx);
- `departments`: 各部门工作档案 and the 部门单位任务台账;
- `zipper`: the archive ZIP;
- `parallel`: worker processes for large archives.
"""

from pipeline.documents.archive.build import ArchiveResult, build_archive
from pipeline.documents.archive.layout import Material, archive_name

__all__ = ["ArchiveResult", "Material", "archive_name", "build_archive"]
