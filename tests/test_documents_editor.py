"""Issue 22 items 1, 2, 3, 6: the documents made from a messy inbox (tests/messy.py) read as a coordinator
writes them. Every rule is asserted on the documents' text (python-docx paragraphs and table cells)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from docx import Document

from pipeline.catalog import load_config
from pipeline.documents.filing import word_count
from tests.builders import report
from tests.messy import JOINT_EVENT, MESSY_YEAR, MISSING, NO_ROSTER, UNANSWERED, department_rows, messy_inbox

ROOT = Path(__file__).resolve().parent.parent
CFG = load_config()
DEPTS = [n for d in CFG.departments for n in (d.name, *d.aliases)]
STANDARDS = [s for ind in CFG.indicators for i in ind.items for s in i.standards]
SEQ = re.compile(r"[（(<《【]\s*第?\s*\d+\s*[次期场][)）>》】]|第\s*\d+\s*[次期场]")


def _paras(path: Path) -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs if p.text.strip()]


def _cells(path: Path) -> list[list[str]]:
    return [[c.text for c in row.cells] for t in Document(str(path)).tables for row in t.rows]


def _one(out: Path, word: str) -> Path:
    [path] = [p for p in out.glob("*.docx") if word in p.name]
    return path


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    root = tmp_path_factory.mktemp("messy")
    inbox = messy_inbox(root / "inbox")
    out = root / "out"
    # (a module fixture runs before conftest's per-test history database: give it its own)
    scores = report(inbox, out, "--year", str(MESSY_YEAR), "--history", str(root / "history.sqlite"))
    return {"scores": scores, "report": _paras(_one(out, "自查报告")), "table": _cells(_one(out, "自查报告")),
            "filing": _paras(_one(out, "说明报告")), "internal": _paras(_one(out, "内部"))}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    scores = report(ROOT / "examples" / "inbox", out, "--history",
                    str(tmp_path_factory.mktemp("history") / "history.sqlite"))
    return {"scores": scores, "report": _paras(_one(out, "自查报告")), "table": _cells(_one(out, "自查报告")),
            "filing": _paras(_one(out, "说明报告")), "internal": _paras(_one(out, "内部"))}


def _results(paras: list[str]) -> list[str]:
    """The 自查报告's 一、工作成效 section."""
    return paras[paras.index("一、工作成效") + 1: paras.index("二、存在问题")]


def _item(paras: list[str], name: str) -> str:
    [p] = [p for p in paras if re.match(rf"\d+\.{re.escape(name)}。", p)]
    return p


def _events(year: int = MESSY_YEAR) -> list[tuple]:
    """The messy inbox's events as a coordinator counts them, worked out here from the rows themselves:
    印发 rows are documents; one event per date and name without its sequence number."""
    seen = {}
    for data in department_rows(year).values():
        for row in data["activities"]:
            title = row[2]
            if title.startswith("印发"):
                continue
            base = re.sub(r"\s+", "", SEQ.sub("", title.replace("<", "（").replace(">", "）")))
            seen[(row[1], base)] = max(filter(None, (seen.get((row[1], base)), row[5])), default=None)
    return list(seen.items())


# ------------------------------------------------------------------ sentence frames (item 1)
def _phrases() -> list[str]:
    words = {SEQ.sub("", r[2]).strip().strip("“”") for d in department_rows(MESSY_YEAR).values()
             for r in d["activities"]}
    words |= {i.name for ind in CFG.indicators for i in ind.items} | {ind.name for ind in CFG.indicators}
    words |= {s.short for s in STANDARDS} | set(DEPTS) | {m.label for m in CFG.metrics.values()}
    return sorted((w for w in words if len(w) >= 2), key=len, reverse=True)


def frames(paras: list[str], phrases: list[str]) -> Counter:
    """Each sentence normalised: titles in marks, figures and the varying noun phrases replaced."""
    out: Counter = Counter()
    for p in paras:
        if p.startswith("（本节字数"):  # the 说明报告's count line is a form label, not prose
            continue
        for s in re.split(r"(?<=[。；])", p):
            t = re.sub(r"《[^》]*》|“[^”]*”|【[^】]*】", "X", s)
            for ph in phrases:
                t = t.replace(ph, "X")
            t = re.sub(r"\d+(\.\d+)?%?", "N", t)
            t = re.sub(r"X([、和]X)+", "X", t)
            t = re.sub(r"^N\.X。", "", t).strip("。；")
            if len(t) >= 10:
                out[t] += 1
    return out


def test_no_sentence_frame_more_than_twice_in_one_document(messy, sample):
    phrases = _phrases()
    for docs in (messy, sample):
        for name in ("report", "filing"):
            counts = frames(docs[name], phrases)
            worst = counts.most_common(1)[0]
            assert worst[1] <= 2, (name, worst)


def test_filler_highlights_left_out_and_listed_with_reasons(messy):
    outward = "".join(messy["report"] + messy["filing"])
    assert "形成常态化机制" not in outward and "扎实推进" not in outward
    # the real facts of the highlights stay, without the department name in front
    assert "全年刊发创建信息36条" in outward and "为基层办实事40余件" in outward
    for p in _results(messy["report"]) + messy["filing"]:
        assert not any(p.startswith(d) or f"。{d}" in p for d in DEPTS), p
    internal = "\n".join(messy["internal"])
    listed = [p for p in messy["internal"] if "形成常态化机制" in p]
    assert len(listed) >= 8  # every filler highlight left out is listed with its department and reason
    assert all("——" in p and any(d in p for d in DEPTS) for p in listed)
    assert any("机关纪委" in p and "廉政谈话提醒（第1次）" in p and "常态化" in p.split("——")[1] for p in listed)
    assert "与台账记录的活动" in internal  # the contradicting figure, with what the ledger says


def test_no_highlight_figure_contradicts_its_section(messy):
    outward = "".join(messy["report"] + messy["filing"])
    assert "30次" not in outward and "500余人次" not in outward
    item = _item(_results(messy["report"]), "文化体育活动")
    assert "职工" not in item.split("。", 2)[-1]  # the 工会 highlight's figures are not in its item
    assert any("全年开展文体活动30次" in p and "活动2次" in p for p in messy["internal"])


# ------------------------------------------------------------------ activities (item 2)
def test_same_kind_grouped_and_sequence_suffixes_dropped(messy):
    results = _results(messy["report"])
    assert "理论中心组集体学习3次" in _item(results, "理想信念教育")
    assert "召开党组会议研究创建工作2次" in _item(results, "创建工作机制")
    for p in results + messy["filing"]:
        assert not SEQ.search(p), p
        assert "<" not in p and ">" not in p and "《第" not in p, p


def _verb(text: str, name: str) -> str:
    """The verb that leads the clause naming an activity ("召开X、Y" gives 召开 for Y)."""
    m = re.search(rf"(召开|举办|开展|举行|更新)[^，。；]*?{re.escape(name)}", text)
    assert m, name
    return m.group(1)


def test_verb_fits_the_kind(messy):
    text = "".join(_results(messy["report"]))
    expected = {"廉政警示教育大会": "召开", "形势政策宣讲报告会": "举办", "宪法宣传周知识竞赛": "举办",
                "职工趣味运动会": "举办", "职工代表座谈会": "召开", "“门前三包”环境整治": "开展",
                JOINT_EVENT: "召开", "党组会议研究创建工作": "召开", "志愿服务队授旗仪式": "举行",
                "理论中心组集体学习": "开展", "宣传专栏": "更新"}
    for name, verb in expected.items():
        assert _verb(text, name) == verb, name
    assert "先后举办核心价值观公益广告更新" not in text


def test_issued_rows_are_documents_and_people_counted_only_where_they_took_part(messy):
    results = _results(messy["report"])
    text = "".join(results + messy["filing"])
    assert "印发年度创建工作计划" not in text and "印发机关民主管理制度" not in text
    assert "《党风廉政建设责任制实施办法》" in _item(results, "党组织建设和党风廉政建设")
    events = _events()
    people = sum(n or 0 for _, n in events)
    [opening] = [p for p in messy["report"] if p.startswith(f"{MESSY_YEAR}年，")]
    assert f"全年开展创建活动{len(events)}次、{people}人次参加" in opening, opening
    assert "文件4份" in opening
    # the 一览表 counts the same way: 2.1.2 has the plan as a document, no activity
    row = next(r for r in messy["table"] if r[2].startswith("年度计划"))
    assert row[3] == "文件1份"


def test_one_event_sent_by_two_departments_counted_once(messy):
    item = _item(_results(messy["report"]), "全域文明城市创建")
    assert item.count(JOINT_EVENT) == 1 and "2次" in item
    assert "".join(messy["filing"]).count(JOINT_EVENT) == 1


def test_items_ordered_by_political_weight(messy):
    item = _item(_results(messy["report"]), "学雷锋志愿活动")
    assert item.index("学雷锋主题党日活动") < item.index("学雷锋志愿服务进社区")  # party work first, though later
    item = _item(_results(messy["report"]), "理想信念教育")
    assert item.index("理论中心组集体学习") < item.index("读书班")


# ------------------------------------------------------------------ honest figures and gaps (item 3)
def test_scores_json_metric_coverage(messy, sample):
    for key, m in messy["scores"]["metrics"].items():
        assert m["coverage"]["missing"] == [MISSING, NO_ROSTER], key
        assert len(m["coverage"]["counted"]) == len(CFG.departments) - 2
    for m in sample["scores"]["metrics"].values():  # the sample's 反协办 sent nothing
        assert m["coverage"]["missing"] == ["反协办"] and len(m["coverage"]["counted"]) == len(CFG.departments) - 1


def test_rates_over_a_partial_roster_say_what_they_cover(messy, sample):
    n = len(CFG.departments) - 2
    for name in ("report", "filing"):
        paras = messy[name]
        rated = [p for p in paras if re.search(r"\d%", p)]
        assert rated
        assert all(f"按{n}个部门的人员名单统计" in p for p in rated), name
        assert sum("【待核实：人员名单尚缺2个部门" in p for p in paras) == 1, name
    row = next(r for r in messy["table"] if r[2] == "参与率和满意度")
    assert row[3] == f"已统计{n}个部门的测评数据"
    n = len(CFG.departments) - 1  # the sample's 反协办 sent nothing: its rates say so too
    assert all(f"按{n}个部门的人员名单统计" in p for p in sample["report"] if re.search(r"\d%", p))


def test_standard_without_reports_is_a_marker_in_every_document_never_not_done(messy):
    unreported = [s["title"] for s in messy["scores"]["standards"] if s["status"] == "未填报"]
    shorts = [s.short for s in STANDARDS if s.title in unreported]
    assert shorts
    for name in ("report", "filing"):
        text = "".join(messy[name])
        for short in shorts:
            assert re.search(rf"【待核实：[^】]*“{re.escape(short)}”", text), (name, short)
        assert "未开展" not in text and "尚无活动" not in text and "开展还不够经常" not in text
    for short in shorts:
        row = next(r for r in messy["table"] if r[2] == short)
        assert row[4] == "【待核实】" and (row[3].startswith("活动") or row[3] == "待核实")


def test_summary_table_is_outward(messy, sample):
    for docs in (messy, sample):
        assert not any("无相关记录" in c for r in docs["table"] for c in r)


def test_negative_list_keeps_its_sentence_with_marker_on_unanswered_item(messy):
    paras = messy["report"]
    section = paras[paras.index("四、负面清单情况") + 1:]
    assert section[0].startswith("经自查，市科协不存在")
    markers = [p for p in section if p.startswith("【待核实") and "负面清单" in p]
    assert len(markers) == 1 and UNANSWERED in markers[0]


# ------------------------------------------------------------------ 说明报告 (item 6)
def test_filing_same_edited_facts_no_department_names_most_of_the_limit(messy, sample):
    for docs in (messy, sample):
        sections = [p for p in docs["filing"] if not p.startswith(("（本节字数", "按网上申报"))
                    and not re.match(r"[一二三四五六七八九十]+、", p)][1:]
        assert len(sections) == len(CFG.indicators)
        for text in sections:
            assert not any(d in text for d in DEPTS), text
            assert "形成常态化机制" not in text
            assert 0.6 * 500 <= word_count(text) <= 500, (word_count(text), text)
    # the same counts as the 自查报告
    events = _events()
    total = sum(int(n) for p in messy["filing"] for n in re.findall(r"相关活动(?:全年共)?(\d+)次", p))
    assert total >= len(events) - 2  # sections partition the items (a few events carry two codes)


def test_sample_keeps_its_real_highlights(sample):
    text = "".join(sample["report"])
    assert "55名党员干部下沉社区入列轮值" in text and "全年刊发创建信息36条" in text
    # the 团委 highlight's "全年开展志愿服务活动24次" contradicts its item's 11 activities: that clause goes, the
    # rest stays, and the internal notice says what was printed instead
    assert "组建青年科技志愿服务队，累计服务时长560小时。" in text and "24次" not in text
    assert any("24次" in p and "对外文书只写" in p for p in sample["internal"])
    assert [m for m in re.findall(r"【待核实：[^】]*】", "".join(_results(sample["report"])))
            if "人员名单" not in m] == []


def test_many_failing_rates_do_not_repeat_one_frame(tmp_path):
    from tests.builders import activity, person, workbook
    inbox = tmp_path / "inbox"
    roster = [person(f"甲{i}", str(i), party="是", volunteer="是" if i < 3 else "否", served="否",
                     participates="否" if i < 4 else "是", satisfaction="不满意" if i < 4 else "满意",
                     legal="否" if i < 4 else "是") for i in range(10)]
    workbook(inbox / "调宣部.xlsx", "调宣部", roster=roster,
             activities=[activity("2026-03-01", "创建工作推动会", "2.2.4")])
    report(inbox, tmp_path / "out")
    paras = _paras(_one(tmp_path / "out", "自查报告"))
    problems = paras[paras.index("二、存在问题") + 1: paras.index("三、下一步努力方向")]
    counts = frames(problems, _phrases())
    assert counts and max(counts.values()) <= 2, counts.most_common(2)
    clauses = Counter(c for p in problems for c in re.split(r"[，。；]", p) if len(c) >= 14 and not re.search(r"\d", c))
    assert max(clauses.values()) <= 2, clauses.most_common(2)  # the analysis is not one clause six times
    headings = [p for p in problems if re.match(r"（[一二三四]）", p)]
    assert len(headings) == 4 and "佐证" not in "".join(problems[problems.index(headings[-2]):
                                                                 problems.index(headings[-1])])


def test_halfyear_uses_the_same_edited_facts_and_marks_unreported_standards(tmp_path):
    from tests.builders import run
    inbox = messy_inbox(tmp_path / "inbox")
    res = run("halfyear", "--inbox", str(inbox), "--out", str(tmp_path / "hy"), "--year", str(MESSY_YEAR))
    assert res.exit_code == 0, res.output
    [path] = (tmp_path / "hy").glob("*.docx")
    paras = _paras(path)
    text = "".join(paras)
    for p in paras:
        assert not SEQ.search(p) and "印发年度创建工作计划" not in p and "《第" not in p, p
    first_half = [e for e in _events() if e[0][0] <= f"{MESSY_YEAR}-06-30"]
    opening = next(p for p in paras if p.startswith(f"{MESSY_YEAR}年上半年"))
    assert f"开展创建活动{len(first_half)}次" in opening
    sections = sum(int(n) for p in paras if p.startswith("围绕") for n in re.findall(r"等活动(\d+)次", p))
    assert sections >= len(first_half)  # each 测评指标 counts its events (a few carry two codes)
    unreported = [s.short for s in STANDARDS if s.title in
                  {x["title"] for x in report(inbox, tmp_path / "out", "--year", str(MESSY_YEAR),
                                              "--history", str(tmp_path / "h.sqlite"))["standards"]
                   if x["status"] == "未填报"}]
    for short in unreported:
        assert re.search(rf"【待核实：[^】]*“{re.escape(short)}”", text), short
    gaps = paras[paras.index("二、存在的不足") + 1: paras.index("三、下半年工作计划")]
    assert not any(short in p for p in gaps if not p.startswith("【") for short in unreported)
    assert "尚未开展" not in text


def test_only_a_document_title_makes_an_issued_row_a_document():
    from pipeline.documents.editor import _issued, _words, strip_sequence
    from pipeline.documents.wording import load_wording
    w = load_wording()
    words, kinds = _words(w, "印发词"), _words(w, "文件词")
    assert _issued("印发年度创建工作计划", words, kinds) == "年度创建工作计划"
    assert _issued("印发《关于加强志愿服务的意见》", words, kinds) == "关于加强志愿服务的意见"
    assert _issued("制定帮扶方案研讨会", words, kinds) is None  # a meeting about a plan is an event
    assert _issued("出台", words, kinds) is None
    for raw, base in [("理论中心组集体学习（第1次）", "理论中心组集体学习"), ("宣传专栏<第3期>", "宣传专栏"),
                      ("道德讲堂第2期", "道德讲堂"), ("读书班(第十期)", "读书班"), ("第3期", "第3期"),
                      ("理论学习（2）", "理论学习"), ("主题活动（2024）", "主题活动（2024）")]:
        assert strip_sequence(raw) == base


def test_department_names_in_activity_titles_are_not_printed(tmp_path):
    from tests.builders import activity, workbook
    inbox = tmp_path / "inbox"
    for k, dept in enumerate(("团委", "工会")):
        workbook(inbox / f"{dept}.xlsx", dept, roster=staff_rows(dept, k),
                 activities=[activity("2026-04-01", f"{dept}志愿服务日", "3.2.2", 20),
                             activity("2026-05-01", f"{dept}：学雷锋志愿服务进社区", "3.2.2", 10)])
    report(inbox, tmp_path / "out", "--history", str(tmp_path / "h.sqlite"))
    paras = _paras(_one(tmp_path / "out", "自查报告"))
    item = _item(_results(paras), "学雷锋志愿活动")
    assert "团委" not in item and "工会" not in item
    assert item.count("志愿服务日") == 1 and "学雷锋志愿服务进社区" in item
    assert re.search(r"(共|累计|合计开展活动|全年)2次", item), item  # the day sent by both departments: once


def staff_rows(dept: str, k: int) -> list[list]:
    from tests.builders import staff
    return staff(3, prefix=dept, start=100 * k)


def test_a_highlight_tagged_with_two_standards_is_printed_once(tmp_path):
    from tests.builders import activity, workbook
    inbox = tmp_path / "inbox"
    fact = "组建青年宣讲团，深入社区宣讲12场，覆盖群众1500余人次。"
    workbook(inbox / "团委.xlsx", "团委", roster=staff_rows("团委", 1),
             activities=[activity("2026-04-01", "青年理论宣讲", "1.1.1", 30),
                         activity("2026-05-01", "学雷锋志愿服务", "3.2.2", 30)],
             highlights=[["1.1.1、3.2.2", fact]])
    scores = report(inbox, tmp_path / "out", "--history", str(tmp_path / "h.sqlite"))
    assert [i for i in scores["issues"] if i["sheet"] == "工作亮点" and i["level"] == "error"] == []
    for name in ("自查报告", "说明报告"):
        text = "".join(_paras(_one(tmp_path / "out", name)))
        assert text.count("组建青年宣讲团") == 1 and "覆盖群众1500余人次" in text, name  # the public: no mismatch


def test_scores_workbook_says_what_its_rates_cover(tmp_path):
    from openpyxl import load_workbook
    inbox = messy_inbox(tmp_path / "inbox")
    report(inbox, tmp_path / "out", "--year", str(MESSY_YEAR), "--history", str(tmp_path / "h.sqlite"))
    [path] = (tmp_path / "out").glob("*测评得分表.xlsx")
    cells = [str(v) for row in load_workbook(path).worksheets[0].iter_rows(values_only=True) for v in row if v]
    note = next(c for c in cells if "人员名单统计" in c)
    assert f"按{len(CFG.departments) - 2}个部门" in note and MISSING in note and NO_ROSTER in note


def test_many_items_with_one_activity_each_vary_their_frame(tmp_path):
    from tests.builders import activity, workbook
    inbox = tmp_path / "inbox"
    codes = ["1.1.1", "1.2.1", "1.3.1", "2.1.3", "2.2.2", "3.1.3", "3.3.3", "3.4.2", "3.6.1", "3.7.1"]
    acts = [activity(f"2026-0{1 + k % 9}-10", f"第{k}项主题实践活动", code, 20 + k) for k, code in enumerate(codes)]
    workbook(inbox / "调宣部.xlsx", "调宣部", roster=staff_rows("调宣部", 1), activities=acts)
    report(inbox, tmp_path / "out", "--history", str(tmp_path / "h.sqlite"))
    paras = _results(_paras(_one(tmp_path / "out", "自查报告")))
    masked = Counter(re.sub(r"\d+", "N", re.sub(r"^N\.[^。]*。", "", re.sub(r"^\d+", "N", p))).split("。")[0]
                     for p in paras if re.match(r"\d+\.", p))
    assert len(masked) >= 4 and max(masked.values()) <= 2, masked


def test_check_names_a_broken_editor_entry_the_sample_does_not_reach(tmp_path):
    import shutil
    from tests.builders import run
    cdir = tmp_path / "config"
    shutil.copytree(ROOT / "config", cdir)
    (cdir / "wording.yaml").write_text("编辑:\n  理由句式: '与其他部门雷同（{模式}）'\n", encoding="utf-8")
    result = run("check", "--config", str(cdir))
    assert result.exit_code != 0
    line = result.output.strip().splitlines()[-1]
    assert "编辑.理由句式" in line and "{模式}" in line and "{句式}" in line


def test_a_department_name_in_front_goes_longest_first_and_only_when_enough_remains():
    from pipeline.documents.editor import _strip_prefix
    from pipeline.documents.text import NamePrefixes
    names = NamePrefixes(["团委", "机关团委", "工会", ""])
    assert _strip_prefix("机关团委：志愿服务日", names, keep=4) == "志愿服务日"   # the longer name, not 团委
    assert _strip_prefix("团委志愿服务日", names, keep=4) == "志愿服务日"
    assert _strip_prefix("机关团委读书会", names, keep=4) == "机关团委读书会"      # 3 left after either name: kept
    assert _strip_prefix("工会会员代表大会", names, keep=4) == "会员代表大会"
    assert _strip_prefix("组织生活会", names) == "组织生活会"
    assert list(names) == ["机关团委", "团委", "工会"]


def test_masking_phrases_by_lookup_gives_what_replacing_each_in_turn_gives():
    import random
    from pipeline.documents.editor import Phrases
    from pipeline.documents.editor import frame_key
    assert Phrases(["abc", "ad"]).mask("aabcd", "") == ""          # removing "abc" makes "ad" appear
    rng = random.Random(7)
    for _ in range(3000):
        phrases = sorted({"".join(rng.choice("abcX") for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(0, 12))},
                         key=len, reverse=True)
        text = "".join(rng.choice("abcdX") for _ in range(rng.randint(0, 14)))
        for repl in ("", "X"):
            expected = text
            for p in phrases:
                expected = expected.replace(p, repl)
            assert Phrases(phrases).mask(text, repl) == expected, (phrases, text, repl)
        assert frame_key(text + "。", Phrases(phrases)) == frame_key(text + "。", phrases)


def test_a_document_row_joins_the_first_document_a_full_comparison_would_find():
    import datetime as dt
    import random
    from pipeline.documents.editor import Doc, _DocIndex, _doc_key
    from pipeline.documents.text import strip_marks
    rng = random.Random(11)
    days = [dt.date(2026, 3, d) for d in (1, 2, 3)] + [None]
    for _ in range(300):
        naive: list[Doc] = []
        indexed = _DocIndex([])
        for _ in range(rng.randint(1, 30)):
            title = "".join(rng.choice("规划制度方案会") for _ in range(rng.randint(1, 6)))
            date, codes = rng.choice(days), {rng.choice("123")}
            key = _doc_key(title)
            found = next((d for d in naive if (key and _doc_key(d.title) and (key in _doc_key(d.title) or _doc_key(d.title) in key))
                          or (date is not None and d.date == date and d.codes & codes)), None)
            if found is None:
                naive.append(Doc(strip_marks(title), date, set(codes)))
            else:
                found.codes |= codes
            same = indexed.first_same(key, date, codes)
            if same is None:
                indexed.add(Doc(strip_marks(title), date, set(codes)))
            else:
                same.codes |= codes
        assert [(d.title, d.date, d.codes) for d in indexed.docs] == [(d.title, d.date, d.codes) for d in naive]


def _documents_by_scan(rows):
    """The documents as the editor merged them before its index (a pass over every earlier one): the reference."""
    from pipeline.documents.editor import Doc, _doc_key
    from pipeline.documents.text import strip_marks
    docs, keys = [], []
    for title, date, codes in rows:
        key = _doc_key(title)
        for d, dk in zip(docs, keys):
            if (key and dk and (key in dk or dk in key)) or (date is not None and d.date == date and d.codes & codes):
                d.codes |= codes
                break
        else:
            docs.append(Doc(strip_marks(title), date, set(codes)))
            keys.append(_doc_key(docs[-1].title))
    return [(d.title, d.date, sorted(d.codes)) for d in docs]


@pytest.mark.parametrize("seed", range(4))
def test_documents_merge_as_a_pass_over_every_earlier_one_would(seed):
    """`_DocIndex` (title keys looked up by substring, titles holding a key found by its rarest piece, same-day
    ones per date) merges each document into the same earlier one as the plain pass over all of them: titles
    holding or held by others, the same day sharing a standard, blank and NaN dates."""
    import datetime as dt
    import random

    from pipeline.documents.editor import Doc, _DocIndex, _doc_key
    from pipeline.documents.text import strip_marks
    rnd = random.Random(seed)
    syllables = ["创建", "工作", "制度", "方案", "文明", "学习", "计划", "管理", "办法", "实施", "A", "7"]
    days = [None, float("nan"), *(dt.date(2026, 1, 1) + dt.timedelta(days=k) for k in range(20))]
    rows = [("".join(rnd.choice(syllables) for _ in range(rnd.randint(1, 6))) + rnd.choice(["", "《》", "（2026年）"]),
             rnd.choice(days), set(rnd.sample(["1.1.1", "1.1.2", "2.1.1", "3.2.2"], rnd.randint(0, 2))))
            for _ in range(600)]
    index = _DocIndex([])
    for title, date, codes in rows:
        same = index.first_same(_doc_key(title), date, codes)
        if same is not None:
            same.codes |= codes
        else:
            index.add(Doc(strip_marks(title), date, set(codes)))
    got = [(d.title, d.date, sorted(d.codes)) for d in index.docs]
    assert len(got) > 20
    assert repr(got) == repr(_documents_by_scan([(t, d, set(c)) for t, d, c in rows]))


def test_substance_removes_titles_as_a_pass_over_every_title_would():
    """`_Judge.substance` finds the titles a sentence holds among its substrings (thousands of titles at city
    scale): the same text as removing them in a pass over every title, longest first, also where removing
    one title makes another appear across the gap, or a title holds another."""
    import random
    from types import SimpleNamespace

    from pipeline.documents.editor import _SEQUENCE_ANY, Doc, Event, _Judge, norm_key
    from pipeline.documents.wording import load_wording
    rnd = random.Random(7)
    pieces = ["学习", "创建", "文明", "活动", "志愿", "服务", "讲堂", "AB", "A", "B", "会"]
    titles = {"".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 4))) for _ in range(400)}
    events = [Event(None, t, norm_key(t), set(), None, []) for t in sorted(titles)]
    docs = [Doc("创建文明单位工作方案", None, set()), Doc("A学习B", None, set())]
    judge = _Judge(SimpleNamespace(config=CFG), load_wording(CFG.dir), events, docs)

    def by_pass(text):
        t = norm_key(_SEQUENCE_ANY.sub("", text))
        for n in judge.titles:
            if n in t:
                t = t.replace(n, "")
        for n in judge.name_keys:
            t = t.replace(n, "")
        for f in judge.filler_keys:
            t = t.replace(f, "")
        return t

    sentences = ["扎实推进学习创建，形成常态化机制。", "AAB学习BB服务会（第2次）", "办公室开展A学习B活动",
                 *("".join(rnd.choice(pieces + ["，", "年度", "工作"]) for _ in range(rnd.randint(1, 20)))
                   for _ in range(500))]
    assert len(judge.titles) > 100
    for s in sentences:
        assert judge.substance(s) == by_pass(s), s


def test_verbs_weights_and_events_by_code_are_what_the_plain_passes_give():
    """verb_of and weight_of test word lists with one search (startswith/endswith with tuples, a compiled
    alternation), Edited looks events up per standard: the same answers as a pass word by word and event by
    event, also with an empty word, a word in several rows and untagged events."""
    import random

    from pipeline.documents.editor import Edited, Event, verb_of, weight_of
    from pipeline.documents.text import clean
    rnd = random.Random(5)
    chars = "学习会议讲座报告竞赛更新开展召开举办座谈"
    words = lambda k: ["".join(rnd.choice(chars) for _ in range(rnd.randint(1, 3))) for _ in range(k)]  # noqa: E731

    def verb_by_pass(title, verbs):
        t = clean(title)
        if any(t.startswith(v) for v in verbs.get("自带动词", ())):
            return ""
        if any(t.endswith(k) for k in verbs.get("更新词", ())):
            return verbs.get("更新", "更新")
        if any(k in t for k in verbs.get("举行词", ())):
            return verbs.get("举行", "举行")
        if any(k in t for k in verbs.get("举办词", ())):
            return verbs.get("举办", "举办")
        if "会议" in t or t.endswith("会") or any(t.endswith(k) for k in verbs.get("召开词", ())):
            return verbs.get("召开", "召开")
        return verbs.get("开展", "开展")

    def weight_by_pass(title, weights):
        t = clean(title)
        for k, row in enumerate(weights):
            for j, x in enumerate(row):
                if x in t:
                    return k, j
        return len(weights), 0

    for _ in range(300):
        verbs = {k: words(rnd.randint(0, 4)) for k in ("自带动词", "更新词", "举行词", "举办词", "召开词")}
        if rnd.random() < 0.1:
            verbs["举办词"].append("")
        weights = [words(rnd.randint(0, 5)) for _ in range(rnd.randint(0, 4))]
        for _ in range(20):
            title = "".join(rnd.choice(chars) for _ in range(rnd.randint(1, 10)))
            assert verb_of(title, verbs) == verb_by_pass(title, verbs)
            assert weight_of(title, weights) == weight_by_pass(title, weights)
    codes = ["1.1.1", "1.1.2", "2.1.1", "3.2.2"]
    events = [Event(None, f"活动{i}", f"活动{i % 7}", set(rnd.sample(codes, rnd.randint(0, 3))), None, [])
              for i in range(500)]
    ed = Edited(events, [], [])
    for asked in ([], ["1.1.1"], ["1.1.2", "3.2.2"], codes, ["9.9.9", "2.1.1"]):
        assert ed._events(asked) == [e for e in events if e.codes & set(asked)]


def test_sequence_markers_and_issued_rows_are_found_as_without_the_shortcuts():
    """strip_sequence skips its search when the title ends with no marker's last character, _issued when no
    印发 word is in front: the same results as the searches themselves on titles built from marker parts."""
    import random

    from pipeline.documents.editor import _SEQUENCE, _issued, strip_sequence
    from pipeline.documents.text import strip_marks

    def by_search(title):
        t = str(title or "").strip()
        while True:
            s = _SEQUENCE.sub("", t).strip()
            if s == t or not s:
                return t
            t = s

    def issued_by_pass(t, words, kinds):
        for w in words:
            if t.startswith(w) and len(t) > len(w) + 1:
                rest = strip_marks(t[len(w):].lstrip("了：: "))
                if "《" in t or not kinds or rest.endswith(tuple(kinds)):
                    return rest
        return None

    rnd = random.Random(3)
    parts = ["学习", "第", "1", "３", "十", "次", "期", "届", "（", "）", "(", ")", "<", ">", "【", "】", " ", "\u3000",
             "-", "讲", "印发", "《", "》", "办法", "了", "："]
    for _ in range(20000):
        title = "".join(rnd.choice(parts) for _ in range(rnd.randint(0, 9)))
        assert strip_sequence(title) == by_search(title), title
        words, kinds = rnd.choice([(["印发", "制定"], ["办法", "制度"]), ([], []), (["印发了"], [])])
        assert _issued(title, words, kinds) == issued_by_pass(title, words, kinds), title


def test_masking_phrases_in_any_order_gives_what_replacing_each_in_turn_gives():
    """Phrases given longest first take the shortcut (the first length holding one holds the first); in any
    other order every length is looked at: both give the replacements in turn."""
    import random

    from pipeline.documents.editor import Phrases
    rng = random.Random(17)
    for _ in range(3000):
        phrases = list({"".join(rng.choice("abcX") for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(0, 12))})
        rng.shuffle(phrases)
        for order in (phrases, sorted(phrases, key=len, reverse=True)):
            text = "".join(rng.choice("abcdX") for _ in range(rng.randint(0, 14)))
            expected = text
            for p in order:
                expected = expected.replace(p, "X")
            assert Phrases(order).mask(text, "X") == expected, (order, text)


def test_forgetting_read_titles_changes_no_event(tmp_path, monkeypatch):
    """The titles remembered while events are built are cleared when there are too many (every unit its own
    titles): the events and documents come out the same as when every title is remembered."""
    from pipeline.documents import editor
    from pipeline.documents.wording import load_wording
    from pipeline.report import collect
    result = collect(messy_inbox(tmp_path / "inbox"), CFG, MESSY_YEAR)
    w = load_wording(CFG.dir)

    def built():
        events, docs = editor._build_events(result, w)
        return ([(e.date, e.title, e.key, sorted(e.codes), e.participants, e.departments) for e in events],
                [(d.title, d.date, sorted(d.codes)) for d in docs])
    remembered = built()
    monkeypatch.setattr(editor, "READ_TITLES_KEPT", 2)
    assert built() == remembered and len(remembered[0]) > 5
