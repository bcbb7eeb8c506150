"""`python -m pipeline check`: render every document from the bundled sample data and report the first
broken template paragraph or wording entry as one Chinese line (file, paragraph text or wording key, fix).

API
---
``check_documents(config, out_dir=None) -> list[Path]``  renders the 自查报告, the internal 工作情况提示
    and the 实施方案 from ``examples/inbox`` with the given configuration (into a temporary folder unless
    ``out_dir``), then checks the wording entries the sample did not reach: their placeholders must be
    among those the same document offers. Raises ``WordingError`` / ``TemplateError`` (PipelineError).
``CHECKS``  a list other document writers append to: ``fn(result, out_dir) -> Path``; each is called
    with the sample's Result so that their wording and templates are checked by the same command.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

from pipeline.catalog import DEFAULT_CONFIG_DIR, Config
from pipeline.documents.wording import WordingError, load_wording

SAMPLE_INBOX = DEFAULT_CONFIG_DIR.parent / "examples" / "inbox"
CHECKS: list[Callable] = []
SECTIONS = ("自查报告", "内部提示", "实施方案", "通用", "编辑")


def check_documents(config: Config, out_dir: str | Path | None = None) -> list[Path]:
    from pipeline.documents.internal import write_internal_notice
    from pipeline.documents.plan import write_plan
    from pipeline.documents.self_report import ReportRun, write_self_report
    from pipeline.report import collect

    wording = load_wording(config.dir)
    wording.offered.clear()
    with tempfile.TemporaryDirectory(prefix="check-") as tmp:
        out = Path(out_dir) if out_dir else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        result = collect(SAMPLE_INBOX, config, config.year)
        run = ReportRun()
        paths = [out / "自查报告（检查）.docx", out / "工作情况提示（检查）.docx"]
        write_self_report(result, paths[0], run)
        write_internal_notice(result, paths[1], run, "校验报告", run.date_text)
        paths.append(write_plan(config, out, ReportRun()))
        for fn in CHECKS:
            paths.append(fn(result, out))
        _unreached(wording, _declared())
        return paths if out_dir else []


def _declared() -> dict[str, tuple[str, ...]]:
    from pipeline.documents import internal, plan, self_report
    from pipeline.documents import history_docs, rollup_docs  # 历年对比 and 汇总报告 entries
    from pipeline.documents import editor
    return {**self_report.DECLARED, **internal.DECLARED, **plan.DECLARED, **history_docs.DECLARED,
            **rollup_docs.DECLARED, **editor.DECLARED, **DECLARED}


#: other writers add {wording key: fact names} for entries their sample run may not reach
DECLARED: dict[str, tuple[str, ...]] = {}


def _unreached(wording, declared: dict[str, tuple[str, ...]]) -> None:
    """Entries the sample did not fill: their placeholders must be those their writer declares (or, for
    undeclared entries, among those its document offers elsewhere)."""
    for key, names in declared.items():
        if key not in wording.offered and wording.has(key):
            wording.offered[key] = set(names)
            _check_names(wording, key, set(names))
    for section in SECTIONS:
        offered = set().union(*(names for key, names in wording.offered.items() if key.startswith(section + ".")),
                              *(names for key, names in wording.offered.items() if key.startswith("通用.")))
        for key in wording.keys(section):
            if key in wording.offered:
                continue
            raw = wording.raw(key)
            if isinstance(raw, list) and all(isinstance(x, str) and "{" not in x for x in raw):
                continue  # a word list
            _check_names(wording, key, offered)


def _check_names(wording, key: str, offered: set[str]) -> None:
    for v in wording.variants(key):
        bad = [n for n in (*v.names, *v.when, *v.unless) if n not in offered]
        if bad:
            file = wording.file_of(key)
            raise WordingError(f"{file} 中“{key}”的文字“{v.text[:40]}”用了不存在的占位符“{{{bad[0]}}}”："
                               f"请改为可用的占位符之一：{'、'.join(sorted(f'{{{n}}}' for n in offered)) or '（无）'}")
