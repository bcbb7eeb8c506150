"""`python -m pipeline check`: every mistake of the profile at once, then every document rendered from sample data
made for its catalog; a broken template paragraph or wording entry is one Chinese line (file, paragraph text or
wording key, fix).

API
---
``check_profile(config_dir=None) -> list[str]``  the ``check`` command: every mistake of the profile (file and
    line each, all at once), then the department templates built and ``check_documents``; [] when all is well.
``sample_inbox(config, folder) -> Path``  the sample made for this profile: ``examples/inbox`` for the bundled
    catalog and departments, else workbooks written for its catalog (documents/sample_data.py).
``check_documents(config, out_dir=None) -> list[Path]``  renders the 自查报告, the internal 工作情况提示
    and the 实施方案 from ``sample_inbox`` with the given configuration (into a temporary folder unless
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
from pipeline.errors import PipelineError

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
        result = collect(sample_inbox(config, Path(tmp) / "示例收件箱"), config, config.year)
        run = ReportRun()
        paths = [out / "自查报告（检查）.docx", out / "工作情况提示（检查）.docx"]
        write_self_report(result, paths[0], run)
        write_internal_notice(result, paths[1], run, "校验报告", run.date_text)
        paths.append(write_plan(config, out, ReportRun()))
        for fn in CHECKS:
            paths.append(fn(result, out))
        _unreached(wording, _declared())
        return paths if out_dir else []


def sample_inbox(config: Config, folder: Path) -> Path:
    """The sample made for this profile: the bundled demo inbox for the bundled catalog and departments, else
    workbooks written for this catalog, its departments and its year (documents/sample_data.py)."""
    from pipeline.catalog import load_config
    try:
        bundled = load_config(DEFAULT_CONFIG_DIR)
    except PipelineError:
        bundled = None
    if bundled is not None and bundled.catalog_fingerprint == config.catalog_fingerprint \
            and bundled.department_names == config.department_names and bundled.year == config.year:
        return SAMPLE_INBOX
    from pipeline.documents.sample_data import write_sample_inbox
    write_sample_inbox(config, folder)
    return folder


def check_profile(config_dir: str | Path | None = None, notes: list[str] | None = None) -> list[str]:
    """`check`: every mistake of the profile (file and line each), then the templates built and every document
    rendered from sample data made for this catalog; the problems, one line each ([] when all is well)."""
    from pipeline.catalog import load_config
    from pipeline.profile import ConfigProblems, resolve_config_dir
    from pipeline.templates import write_templates
    try:
        config = load_config(resolve_config_dir(config_dir))
    except ConfigProblems as exc:
        return exc.problems
    except PipelineError as exc:
        return [str(exc)]
    if notes is not None:
        notes.extend(config.notes)
    problems = unknown_wording_keys(config)
    if problems:
        return problems
    try:
        with tempfile.TemporaryDirectory(prefix="check-templates-") as tmp:
            write_templates(config, tmp)
        check_documents(config)
    except PipelineError as exc:
        return [str(exc)]
    return []


def unknown_wording_keys(config: Config) -> list[str]:
    """A unit's own wording.yaml may only change entries the bundled one has (a misspelt key would be ignored
    silently); each unknown one by its line, with the likely intended key. A catalog's own metric may have its
    entries under the metric-keyed groups (指标实际, 指标问题标题)."""
    import difflib
    from pipeline.profile import read_located
    own = Path(config.dir) / "wording.yaml"
    if not own.is_file() or own.resolve() == (DEFAULT_CONFIG_DIR / "wording.yaml").resolve():
        return []
    doc = read_located(own, f"{config.dir.name}/wording.yaml")
    bundled = load_wording(None).all_keys()
    groups = {k.rsplit(".", 1)[0] for k in bundled}
    problems = []

    def walk(data, path):
        for name, raw in (data.items() if isinstance(data, dict) else ()):
            key = ".".join((*path, str(name)))
            if isinstance(raw, dict) and "文本" not in raw and (key in groups or not path):
                walk(raw, (*path, str(name)))
                continue
            group = key.rsplit(".", 1)[0]
            if key in bundled or (group in groups and str(name) in config.metrics):
                continue
            close = difflib.get_close_matches(key, sorted(bundled | groups), n=1, cutoff=0.6)
            problems.append(f"{doc.where(*path, str(name))}：不认识的措辞项“{key}”，"
                            + (f"是不是 {close[0]}？" if close else f"请对照项目自带的 config/wording.yaml 核对名称"))
    walk(doc.data, ())
    return problems


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
            wording.offered[key] = set(names) | set(wording.unit_words)
            _check_names(wording, key, wording.offered[key])
    for section in SECTIONS:
        offered = set(wording.unit_words).union(*(names for key, names in wording.offered.items()
                                                  if key.startswith(section + ".")),
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
