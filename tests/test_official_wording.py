"""Official wording as data and dates that follow the document's year (issue 22 items 4, 5, 8; issue 25 item 6).

Run on a messy inbox of a past year (tests/messy.py, 2024) and on the bundled configuration; every assertion is
on the text of the documents written."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
import yaml
from docx import Document

from builders import activity, run, staff, workbook
from messy import MESSY_YEAR, messy_inbox

from pipeline.catalog import load_config

ROOT = Path(__file__).resolve().parent.parent
SEEDS = Path("/work/shared/seeds") if Path("/work/shared/seeds").is_dir() else ROOT.parent / "shared" / "seeds"
STALE = ("以习近平为核心", "十九大", "两学一做", "“不忘初心、牢记使命”主题教育")


def _docx(path: Path) -> str:
    d = Document(path)
    parts = [p.text for p in d.paragraphs]
    parts += [c.text for t in d.tables for r in t.rows for c in r.cells]
    return "\n".join(parts)


def _xlsx(path: Path) -> str:
    wb = openpyxl.load_workbook(path)
    return "\n".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None)


def _config(tmp_path: Path, **unit) -> Path:
    """A copy of the bundled configuration with some unit.yaml keys changed."""
    cfg = tmp_path / "config"
    shutil.copytree(ROOT / "config", cfg)
    data = (cfg / "unit.yaml").read_text(encoding="utf-8")
    for key, value in unit.items():
        data, n = re.subn(rf"(?m)^{key}:.*$", f"{key}: {value}", data)
        assert n == 1, key
    (cfg / "unit.yaml").write_text(data, encoding="utf-8")
    return cfg


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    root = tmp_path_factory.mktemp("messy")
    inbox = messy_inbox(root / "inbox")
    out = root / "out"
    result = run("report", "--inbox", str(inbox), "--out", str(out), "--year", str(MESSY_YEAR), "--silent",
                 "--history", str(root / "h.sqlite"))
    assert result.exit_code == 0, result.output
    return inbox, out


# ------------------------------------------------------------------ item 4: the table, applied everywhere


def test_outdated_formulations_never_reach_word_or_excel(messy):
    _, out = messy
    files = list(out.glob("*.docx")) + list(out.glob("*.xlsx"))
    assert len(files) >= 5
    for path in files:
        text = _docx(path) if path.suffix == ".docx" else _xlsx(path)
        for stale in STALE:
            assert stale not in text, (path.name, stale)
    tasks = _xlsx(next(out.glob("*任务分解一览台账.xlsx")))
    assert "同以习近平同志为核心的党中央" in tasks                       # the catalog's 1.1.2, corrected
    assert "扎实开展党纪学习教育" in tasks                              # 2024's 学习教育 for the retired campaigns
    assert "全面贯彻党的二十大和二十届二中、三中全会精神" in tasks          # 十九大 -> the current 大会精神 of 2024


def test_a_departments_typed_text_gets_the_current_wording_too(tmp_path):
    inbox = tmp_path / "inbox"
    workbook(inbox / "团委-台账.xlsx", "团委", roster=staff(8), submitted="2026-11-10",
             activities=[activity("2026-04-25", "学习党的十九大精神专题读书会", "1.1.1", 28)],
             highlights=[["1.1.1", "引导团员青年自觉同以习近平为核心的党中央保持高度一致，全年开展读书会12次。"]])
    result = run("report", "--inbox", str(inbox), "--out", str(tmp_path / "out"), "--silent",
                 "--history", str(tmp_path / "h.sqlite"))
    assert result.exit_code == 0, result.output
    for path in [*(tmp_path / "out").glob("*.docx"), *(tmp_path / "out").glob("*.xlsx")]:
        text = _docx(path) if path.suffix == ".docx" else _xlsx(path)
        for stale in STALE:
            assert stale not in text, (path.name, stale)
    ledger = _xlsx(next((tmp_path / "out").glob("*任务分解一览台账.xlsx")))
    assert "学习党的二十大和二十届历次全会精神专题读书会" in ledger


@pytest.mark.parametrize("year, goal, task", [
    (2023, "把学习宣传贯彻党的二十大精神作为首要政治任务", "学习贯彻习近平新时代中国特色社会主义思想主题教育"),
    (2024, "把学习宣传贯彻党的二十届三中全会精神作为首要政治任务", "扎实开展党纪学习教育"),
    (2025, "全面贯彻党的二十大和二十届历次全会精神", "深入贯彻中央八项规定精神学习教育"),
    (2026, "把学习宣传贯彻党的二十届四中全会精神作为首要政治任务", "树立和践行正确政绩观学习教育"),
])
def test_the_plan_takes_the_years_themes(tmp_path, year, goal, task):
    result = run("plan", "--out", str(tmp_path), "--year", str(year))
    assert result.exit_code == 0, result.output
    (path,) = tmp_path.glob(f"{year}年*实施方案.docx")
    text = _docx(path)
    assert goal in text and task in text
    for stale in STALE:
        assert stale not in text


def test_half_year_uses_the_first_halfs_themes(messy, tmp_path):
    inbox, _ = messy
    result = run("halfyear", "--inbox", str(inbox), "--out", str(tmp_path), "--year", str(MESSY_YEAR))
    assert result.exit_code == 0, result.output
    text = _docx(next(tmp_path.glob("*.docx")))
    opening = text.split("一、上半年工作开展情况")[0]
    assert "深入学习贯彻党的二十大和二十届二中全会精神，扎实开展党纪学习教育" in opening   # 三中全会 was in July
    assert "三中全会" not in opening


def test_self_report_direction_takes_the_years_primary_task(messy):
    _, out = messy
    text = _docx(next(out.glob("*自查报告.docx")))
    assert "把学习宣传贯彻党的二十届三中全会精神作为首要政治任务" in text


def test_check_warns_when_the_report_year_has_no_entry_or_is_still_to_be_verified(tmp_path):
    missing = run("check", "--config", str(_config(tmp_path / "a", year=2031)))
    assert missing.exit_code == 0, missing.output
    assert "提醒：" in missing.output and "没有 2031 年的年度主题" in missing.output
    pending = run("check", "--config", str(_config(tmp_path / "b", year=2027)))
    assert pending.exit_code == 0 and "2027 年尚待核实" in pending.output
    current = run("check", "--config", str(_config(tmp_path / "c", year=2026)))
    assert current.exit_code == 0 and "提醒" not in current.output


def test_a_broken_official_table_is_one_chinese_line_with_file_and_line(tmp_path):
    cfg = _config(tmp_path)
    text = (cfg / "official_wording.yaml").read_text(encoding="utf-8")
    text = text.replace("现行: 同以习近平同志为核心的党中央", "现行: 同以{核心}为核心的党中央", 1)
    (cfg / "official_wording.yaml").write_text(text, encoding="utf-8")
    result = run("plan", "--config", str(cfg), "--out", str(tmp_path / "out"))
    assert result.exit_code != 0
    assert "official_wording.yaml 第" in result.output and "{核心}" in result.output
    assert "Traceback" not in result.output


def _fragments(text: str) -> list[str]:
    return [p for p in re.split(r"\{[^}]*\}", text) if p]


STOCK = ("以习近平新时代中国特色社会主义思想为指导", "习近平新时代中国特色社会主义思想", "培育和践行社会主义核心价值观",
         "上半年工作情况", "年度文明单位创建工作部门单位任务台账", "年度文明单位创建工作任务分解一览台账",
         "上半年工作总结及下半年工作计划", "创建文明单位工作实施方案", "创建文明单位工作领导小组", "现将自查情况报告如下")


def test_wording_frames_are_our_own_sentences_not_the_seeds():
    """No frame of wording.yaml repeats 14 or more characters of the seed reports (stock official phrases and
    document names aside)."""
    seeds = [p for p in SEEDS.glob("00[0-3]_*.txt")]
    if not seeds:
        pytest.skip("seed reports not found (../shared/seeds)")
    norm = str.maketrans({",": "，", "(": "（", ")": "）", ":": "：", ";": "；"})
    corpus = "\n".join(p.read_text(encoding="utf-8").translate(norm) for p in seeds)
    frames = []

    def walk(node):
        if isinstance(node, dict):
            if "文本" in node:
                frames.append(str(node["文本"]))
            else:
                for v in node.values():
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        elif isinstance(node, str):
            frames.append(node)

    walk(yaml.safe_load((ROOT / "config" / "wording.yaml").read_text(encoding="utf-8")))
    copied = []
    for frame in frames:
        for piece in _fragments(frame.translate(norm)):
            for stock in STOCK:
                piece = piece.replace(stock, "|")
            for i in range(len(piece) - 13):
                if "|" not in piece[i:i + 14] and piece[i:i + 14] in corpus:
                    copied.append(piece[i:i + 14])
                    break
    assert not copied, sorted(set(copied))


# ------------------------------------------------------------------ item 5: dates follow the document's year


def test_a_past_years_documents_never_show_another_year(messy):
    _, out = messy
    for path in [*out.glob("*.docx"), *out.glob("*.xlsx")]:
        text = _docx(path) if path.suffix == ".docx" else _xlsx(path)
        years = set(re.findall(r"(20\d\d)年", text))
        assert years <= {str(MESSY_YEAR), "2019"}, (path.name, years)   # 2019: the old photo's date, if named
    validation = _xlsx(next(out.glob("*校验报告.xlsx")))
    assert f"请于{MESSY_YEAR}年11月20日前" in validation                   # the resubmission date of 2024


def test_a_passed_deadline_is_never_written_as_before_the_deadline(messy):
    _, out = messy
    text = _docx(next(out.glob("*情况提示（内部）.docx")))
    assert "在截止日期前" not in text
    assert f"组人部：未报送创建台账，报送截止日期{MESSY_YEAR}年11月20日已过，请督促其尽快报送。" in text


def test_half_year_is_dated_early_july_of_its_year(messy, tmp_path):
    inbox, _ = messy
    result = run("halfyear", "--inbox", str(inbox), "--out", str(tmp_path), "--year", str(MESSY_YEAR))
    assert result.exit_code == 0, result.output
    paras = [p.text for p in Document(next(tmp_path.glob("*.docx"))).paragraphs if p.text.strip()]
    assert paras[-1] == f"{MESSY_YEAR}年7月6日"
    text = "\n".join(paras)
    assert "2026年" not in text and "【待核实：落款日期】" not in text
    configured = _config(tmp_path / "c", halfyear_date="2025-07-10")
    run("halfyear", "--inbox", str(inbox), "--out", str(tmp_path / "c-out"), "--year", str(MESSY_YEAR),
        "--config", str(configured))
    paras = [p.text for p in Document(next((tmp_path / "c-out").glob("*.docx"))).paragraphs if p.text.strip()]
    assert paras[-1] == f"{MESSY_YEAR}年7月10日"                           # month and day, in its own year


def test_half_year_figures_are_first_half_or_labelled(messy, tmp_path):
    inbox, _ = messy
    run("halfyear", "--inbox", str(inbox), "--out", str(tmp_path), "--year", str(MESSY_YEAR))
    text = _docx(next(tmp_path.glob("*.docx")))
    assert "1月至6月开展创建活动" in text
    for sentence in re.findall(r"[^。]*参与率为[^。]*。", text):
        assert sentence.startswith("截至") or "按已报送的人员名单统计" in sentence, sentence


def test_plan_year_and_the_continuing_schedule(tmp_path):
    continuing = run("plan", "--out", str(tmp_path / "a"), "--year", "2024")
    assert continuing.exit_code == 0, continuing.output
    (path,) = (tmp_path / "a").glob("2024年*实施方案.docx")
    text = _docx(path)
    stage = next(p for p in text.split("\n") if p.startswith("（四）"))
    assert "1月至3月" in stage and "启动" not in stage and "初步构建" not in stage
    assert "2026" not in text and "2024年度文明单位创建工作部门单位任务台账" in text
    first = run("plan", "--out", str(tmp_path / "b"), "--year", "2018")       # unit.yaml first_year: 2018
    (path,) = (tmp_path / "b").glob("2018年*实施方案.docx")
    stage = next(p for p in _docx(path).split("\n") if p.startswith("（四）"))
    assert "6月印发实施方案" in stage and "申报文明单位" in stage
    later = run("plan", "--config", str(_config(tmp_path / "c", first_year=2024)), "--out", str(tmp_path / "c-out"),
                "--year", "2024")
    assert later.exit_code == 0
    stage = next(p for p in _docx(next((tmp_path / "c-out").glob("*.docx"))).split("\n") if p.startswith("（四）"))
    assert "动员部署" in stage                                                # 2024 is that unit's first year


def test_bulletin_without_date_takes_the_year_from_unit_yaml_not_the_clock(tmp_path):
    inbox = tmp_path / "inbox"
    workbook(inbox / "调宣部-台账.xlsx", "调宣部", roster=staff(5), submitted="2025-11-10", info={"年度": 2025},
             activities=[activity("2025-03-01", "理论学习", "1.1.1")])
    cfg = _config(tmp_path, year=2025)
    result = run("bulletin", "--inbox", str(inbox), "--out", str(tmp_path / "out"), "--config", str(cfg))
    assert result.exit_code == 0, result.output
    (path,) = (tmp_path / "out").glob("*.docx")
    assert path.name.startswith("2025年") and "第1期" in path.name
    assert json.loads((tmp_path / "out" / ".bulletin.json").read_text(encoding="utf-8")) == {"2025": 1}
    text = _docx(path)
    if dt.date.today().year > 2025:
        assert "截至2025年12月31日" in text
    assert str(dt.date.today().year + 1) + "年" not in text


# ------------------------------------------------------------------ item 8 and issue 25 item 6


def test_metric_only_standards_are_not_without_evidence(messy, tmp_path):
    from pipeline.documents.bulletin import progress
    from pipeline.documents.halfyear import half_year
    from pipeline.report import collect
    inbox, _ = messy
    config = load_config()
    metric_only = [c for c, s in config.standards.items() if s.min_evidence == 0]
    assert metric_only
    result = collect(inbox, config, MESSY_YEAR)
    assert not [g for g in half_year(result).gaps if g.code in metric_only and g.kind != "指标"]
    p = progress(result, dt.date(MESSY_YEAR, 6, 30))
    owed = {s.code for _, _, _, stds in p.departments for s in stds} | {s.code for s in p.shared}
    assert not owed & set(metric_only)
    assert set(metric_only) <= set(p.with_evidence)
    run("halfyear", "--inbox", str(inbox), "--out", str(tmp_path), "--year", str(MESSY_YEAR))
    text = _docx(next(tmp_path.glob("*.docx")))
    for code in metric_only:
        short = config.standards[code].short
        assert not re.search(rf"{re.escape(short)}[^。]*尚无活动记录", text)


def test_half_year_plan_includes_the_regular_second_half_work(messy, tmp_path):
    inbox, _ = messy
    run("halfyear", "--inbox", str(inbox), "--out", str(tmp_path), "--year", str(MESSY_YEAR))
    plan = _docx(next(tmp_path.glob("*.docx"))).split("三、下半年工作计划")[1]
    for regular in ("全国科普日", "“我们的节日”", "满意度测评", "宪法宣传周", "迎接文明单位测评检查"):
        assert regular in plan
    items = re.findall(r"\n(\d+)\.", "\n" + plan)
    assert items == [str(k) for k in range(1, len(items) + 1)]                 # one numbered list
    assert len(re.findall(r"\d+\.(思想建设|创建管理|基础建设)方面。", plan)) <= 3  # grouped by theme


def test_internal_notice_reads_as_written_by_the_office(messy):
    inbox, out = messy
    doc = Document(next(out.glob("*情况提示（内部）.docx")))
    paras = [p.text for p in doc.paragraphs if p.text.strip()]
    scores = json.loads((out / "scores.json").read_text(encoding="utf-8"))
    counts = {}
    for s in scores["standards"]:
        counts[s["status"]] = counts.get(s["status"], 0) + 1
    summary = paras[1]
    assert summary.startswith(f"{MESSY_YEAR}年创建文明单位工作自查已完成。")
    assert f"达标{counts['达标']}条" in summary and f"佐证材料待补充{counts['佐证不足']}条" in summary
    assert f"暂无法评定{counts['未填报']}条" in summary and "已报送9个" in summary
    assert paras[-2] == "天津市科协创建文明单位工作领导小组办公室"
    text = "\n".join(paras)
    for word in ("运行", "生成", "程序", "软件"):
        assert word not in text, word
    assert "台账中列明的佐证材料有1份未随台账报送" in text                  # evidence shortfalls listed
    assert re.search(r"调宣部：台账中列明的佐证材料有1份未随台账报送（如“[^”]+”），另有\d+项活动或文件的佐证材料未达到"
                     r"测评要求（如活动“", text)


def test_internal_notice_lists_a_photo_filed_for_several_activities(tmp_path):
    from test_evidence import act, ledger
    from evidence_files import jpeg
    inbox = tmp_path / "inbox"
    ledger(inbox / "团委-台账.xlsx", "团委", activities=[
        act("2026-03-05", "学雷锋志愿服务", "3.2.2", "合影.jpg"), act("2026-04-05", "植树活动", "3.7.1", "合影.jpg")])
    jpeg(inbox / "团委" / "合影.jpg")
    result = run("report", "--inbox", str(inbox), "--out", str(tmp_path / "out"), "--silent", "--year", "2026",
                 "--history", str(tmp_path / "h.sqlite"))
    assert result.exit_code == 0, result.output
    text = _docx(next((tmp_path / "out").glob("*情况提示（内部）.docx")))
    assert "团委的照片“合影.jpg”同时作为2项活动的佐证" in text


def test_configured_dates_are_taken_for_the_documents_year():
    from pipeline import schedule
    config = load_config()
    assert schedule.deadline(config, 2024) == dt.date(2024, 11, 20)           # unit.yaml: 2026-11-20
    assert schedule.resubmission_deadline(config, 2023) == dt.date(2023, 11, 20)
    assert schedule.in_year(dt.date(2024, 2, 29), 2025) == dt.date(2025, 2, 28)
    assert schedule.halfyear_date(config, 2025) == dt.date(2025, 7, 6)
    assert schedule.document_day(2024, today=dt.date(2026, 3, 1)) == dt.date(2024, 12, 31)
    assert schedule.document_day(2026, today=dt.date(2026, 3, 1)) == dt.date(2026, 3, 1)
    assert schedule.is_first_year(config, 2018) and not schedule.is_first_year(config, 2019)
    assert [s["period"] for s in schedule.stages(config, 2018)] == ["6月", "9月", "11月"]
    assert schedule.stages(config, 2025)[0]["period"] == "1月至3月"


def test_reminders_count_days_to_the_deadline_of_the_scores_year(tmp_path):
    from pipeline.mail.reminders import due
    config = load_config()
    scores = {"year": 2025, "departments": [{"name": "工会", "submitted": False, "state": "missing"}]}
    reminders = due(config, scores, tmp_path, today=dt.date(2025, 11, 18))   # two days before 2025-11-20
    assert reminders and reminders[0].stage.name == "每日催报"


@pytest.mark.parametrize("year", [2023, 2024, 2025, 2026, 2027, 2031])
def test_replacements_are_idempotent_and_leave_nothing_stale(year):
    """Text passes the filter several times (a value cleaned, then its paragraph finished): the result of one
    pass is a fixed point, and no outdated formulation of the table survives."""
    from pipeline.documents import official
    config = load_config()
    official.activate(config, year)
    table = official.load_official(config.dir)
    for rule in table.rules:
        once = official.apply(f"要求：{rule.old}。")
        assert official.apply(once) == once, rule.old
        assert rule.old not in once or rule.fallback is None and "{" in rule.new, (year, rule.old)
    for code, std in config.standards.items():
        once = official.apply(std.title)
        assert official.apply(once) == once and not any(s in once for s in STALE), code


def test_department_templates_carry_the_current_wording(tmp_path):
    result = run("templates", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    text = "\n".join(_xlsx(p) for p in tmp_path.glob("*.xlsx"))
    assert "习近平" in text or "测评标准" in text
    for stale in STALE:
        assert stale not in text, stale


def test_half_year_never_dates_its_figures_after_its_own_date(messy, tmp_path):
    """The messy rosters were sent on 20 November: a 半年总结 dated 6 July does not say 截至11月20日."""
    inbox, _ = messy
    run("halfyear", "--inbox", str(inbox), "--out", str(tmp_path), "--year", str(MESSY_YEAR))
    text = _docx(next(tmp_path.glob("*.docx")))
    assert "截至2024年11月20日" not in text and "按已报送的人员名单统计，" in text


def test_the_text_filter_replaces_in_its_fast_path_too():
    """`text.clean` returns plain values early (city scale): the official wording still applies there."""
    from pipeline.documents import official
    from pipeline.documents.text import clean, finish
    official.activate(load_config(), 2024)
    assert clean("学习党的十九大精神") == "学习党的二十大和二十届二中、三中全会精神"
    assert clean("完成三年行动计划任务") == "完成全域创建文明城市行动计划任务"      # the catalog's own title_updates
    assert finish("同以习近平为核心的党中央保持高度一致") == "同以习近平同志为核心的党中央保持高度一致"
