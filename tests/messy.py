"""A messy inbox as departments really write one (issue 22): for the document rules, shared by the tests.

``messy_inbox(inbox, year=MESSY_YEAR) -> inbox`` writes nine department workbooks (组人部 sends nothing),
their photos and the facts below; run ``report --year <year>`` on it. What it contains:

- 工作亮点 in one filler frame repeated across departments ("扎实推进X，形成常态化机制"), some with the
  department's name in front, one claiming a single numbered session (廉政谈话提醒（第1次）) as a 常态化机制,
  one whose figures contradict the item's own totals (文体活动30次, 500余人次), and a few with real facts;
- numbered sessions: "理论中心组集体学习（第1次）", "（第2次）", "<第3期>", "第2期", "(第3次)";
- 印发 rows sent as activities (with 参加人数), one of them also listed in 制度文件;
- one event sent by two departments (全域创文任务部署会, same date, names differing in spacing/brackets);
- one roster missing (MISSING sends nothing: its standards stay 未填报) and one department (NO_ROSTER) whose
  workbook has activities but an empty 人员名单; the roll-call metrics then cover eight departments;
- photos with the same generic names (照片1.jpg, 照片2.jpg) in several departments' folders, and one photo
  taken years before the report year (OLD_PHOTO);
- a 负面清单 with one item left unanswered (UNANSWERED).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.builders import ACTIVITY_HEADERS, staff, workbook
from tests.evidence_files import jpeg

MESSY_YEAR = 2024
MISSING = "组人部"          # sends nothing at all
NO_ROSTER = "反协办"        # sends activities, an empty roster
JOINT_EVENT = "全域创文任务部署会"  # sent by 调宣部 and 工会 (same date)
OLD_PHOTO = ("办公室", "照片2.jpg")  # taken in 2019
UNANSWERED = "意识形态工作出现重大问题"  # left blank in the 负面清单
FILLER = "形成常态化机制"


def _act(day: str, title: str, code: str, people=None, evidence: str = "", host: str | None = None) -> list:
    return [None, day, title, code, host, people, 2 if people else None, "机关", None, evidence or None]


def _dates(year: int):
    def d(md: str) -> str:
        return f"{year}-{md}"
    return d


def department_rows(year: int) -> dict[str, dict]:
    """Per department: activities, documents, highlights (as the workbooks hold them)."""
    d = _dates(year)
    return {
        "办公室": {
            "activities": [
                _act(d("03-15"), "党组会议研究创建工作（第1次）", "2.1.1", 9, "照片1.jpg"),
                _act(d("09-20"), "党组会议研究创建工作（第2次）", "2.1.1", 9, "照片2.jpg"),
                _act(d("02-20"), "印发年度创建工作计划", "2.1.2", 30),
                _act(d("05-08"), "创建工作宣传栏更新<第3期>", "2.1.3", None),
                _act(d("06-18"), "文明服务示范窗口评选", "3.3.3", 20),
                _act(d("11-04"), "领导班子集体学法", "3.5.2", 9),
            ],
            "documents": [[None, f"{year}年创建文明单位工作计划", None, d("02-20"), "计划", "2.1.2"]],
            "highlights": [["2.1.3", "办公室扎实推进创建工作宣传栏更新，形成常态化机制。"],
                           ["2.1.3", "在机关办公楼设置创建工作宣传栏，在官网、官微开设文明创建专栏，全年刊发创建信息36条。"]],
        },
        "调宣部": {
            "activities": [
                _act(d("03-10"), "理论中心组集体学习（第1次）", "1.1.1", 25, "照片1.jpg"),
                _act(d("06-12"), "理论中心组集体学习（第2次）", "1.1.1", 24),
                _act(d("09-11"), "理论中心组集体学习(第3次)", "1.1.1", 25),
                _act(d("04-22"), "形势政策宣讲报告会", "1.1.3", 60),
                _act(d("07-05"), "核心价值观公益广告更新", "1.2.1", None),
                _act(d("10-15"), "道德讲堂第2期", "1.2.3", 45),
                _act(d("04-18"), JOINT_EVENT, "2.2.1", 80, "部署会.jpg"),
                _act(d("08-20"), "宣传专栏<第3期>", "2.1.3", None),
                _act(d("12-04"), "宪法宣传周知识竞赛", "3.5.1", 70),
            ],
            "documents": [[None, f"{year}年党的理论教育和党性教育工作方案", None, d("02-26"), "方案", "1.1.1"]],
            "highlights": [["1.1.1", "调宣部扎实推进理论中心组集体学习，形成常态化机制。"],
                           ["1.2.1", "扎实推进核心价值观公益广告更新，形成常态化机制。"]],
        },
        "机关党委办": {
            "activities": [
                _act(d("05-30"), "主题党日活动（第1次）", "1.3.1", 40, "照片1.jpg"),
                _act(d("07-01"), "“七一”主题党日活动", "1.3.1", 42, "照片2.jpg"),
                _act(d("06-26"), "廉政警示教育大会", "1.3.2", 55),
                _act(d("03-05"), "志愿服务队授旗仪式", "3.2.1", 30),
                _act(d("03-05"), "学雷锋志愿服务进社区<第2期>", "3.2.2", 20),
                _act(d("04-10"), "印发《党风廉政建设责任制实施办法》", "1.3.2", 15),
                _act(d("09-05"), "学雷锋主题党日活动", "3.2.2", 35),
            ],
            "documents": [],
            "highlights": [["1.3.1", "扎实推进主题党日活动，形成常态化机制。"],
                           ["1.3.2", "机关党委办扎实推进廉政谈话提醒，形成常态化机制。"],
                           ["1.3.1", "开展“我为群众办实事”实践活动，32名党员干部下沉社区，为基层办实事40余件。"]],
        },
        "机关纪委": {
            "activities": [
                _act(d("04-16"), "廉政谈话提醒（第1次）", "1.3.2", 12),
                _act(d("08-27"), "党风廉政教育专题讲座", "1.3.2", 50),
            ],
            "documents": [],
            "highlights": [["1.3.2", "机关纪委：扎实推进廉政谈话提醒（第1次），形成常态化机制。"]],
        },
        "普及部": {
            "activities": [
                _act(d("05-20"), "科普进社区助力创文", "2.2.2", 35),
                _act(d("09-21"), "全国科普日主题活动", "3.4.2", 120),
                _act(d("10-10"), "科技工作者诚信主题教育", "3.3.1", 40),
            ],
            "documents": [],
            "highlights": [["2.2.2", "普及部扎实推进科普进社区，形成常态化机制。"],
                           ["2.2.2", "指导各区开展全域科普、反邪教宣传等经常性科普活动，助力全域文明城市创建。"]],
        },
        "工会": {
            "activities": [
                _act(d("04-18"), "全域创文任务部署会 ", "2.2.1", 80, "照片1.jpg"),
                _act(d("05-25"), "职工趣味运动会", "3.6.1", 90, "照片2.jpg"),
                _act(d("10-26"), "健步走活动", "3.6.2", 60),
                _act(d("03-28"), "“门前三包”环境整治", "3.7.1", 25),
                _act(d("12-10"), "职工代表座谈会", "3.7.2", 30),
                _act(d("01-15"), "印发机关民主管理制度", "3.7.2", 30),
            ],
            "documents": [[None, "机关民主管理制度", None, d("01-15"), "制度", "3.7.2"]],
            "highlights": [["3.6.1", "扎实推进职工文体活动，形成常态化机制。"],
                           ["3.6.1", "工会全年开展文体活动30次，参与职工500余人次，职工满意度明显提升。"]],
        },
        "妇联": {
            "activities": [
                _act(d("05-12"), "好家风好家训分享会", "3.1.3", 30, "照片1.jpg"),
                _act(d("11-20"), "文明家庭评选", "3.1.4", 25),
            ],
            "documents": [],
            "highlights": [["3.1.3", "妇联扎实推进好家风好家训分享会，形成常态化机制。"]],
        },
        "团委": {
            "activities": [
                _act(d("04-25"), "青年理论学习小组读书班（第3期）", "1.1.1", 28, "照片1.jpg"),
                _act(d("03-05"), "学雷锋志愿服务进社区", "3.2.2", 22, "照片2.jpg"),
                _act(d("06-15"), "科技志愿服务下乡", "3.2.2", 18),
            ],
            "documents": [],
            "highlights": [["3.2.2", "扎实推进青年志愿服务，形成常态化机制。"],
                           ["3.2.2", "组建青年科技志愿服务队，累计服务时长320小时。"]],
        },
        "反协办": {
            "activities": [_act(d("06-05"), "反邪教警示教育宣传", "3.4.2", 40)],
            "documents": [],
            "highlights": [],
        },
    }


def _roster(dept: str, k: int, n: int) -> list[list]:
    """n staff, the first few failing some yes/no columns so the rates are not all 100%."""
    rows = staff(n, prefix=f"{dept}人员", start=1000 * k, party="是", volunteer="是", served="是", dept=dept)
    rows[0][6] = "否"  # not a registered volunteer
    if n > 6:
        rows[1][7] = "否"  # registered, never served
        rows[2][5] = "否"
    return rows


def messy_inbox(inbox: Path, year: int = MESSY_YEAR) -> Path:
    """Write the messy inbox (see the module docstring) into `inbox` and return it."""
    inbox.mkdir(parents=True, exist_ok=True)
    rows = department_rows(year)
    negative = None
    for k, (dept, data) in enumerate(rows.items(), 1):
        roster = [] if dept == NO_ROSTER else _roster(dept, k, 8 if dept in ("妇联", "团委") else 11)
        if dept == "办公室":
            from pipeline.catalog import load_config
            items = load_config().negative_items
            negative = [[item, None if item == UNANSWERED else "否", None] for item in items]
        workbook(inbox / f"{dept}-{year}年文明单位创建台账.xlsx", dept, roster=roster,
                 activities=data["activities"], documents=data["documents"], highlights=data["highlights"],
                 info={"年度": year}, submitted=f"{year}-11-20",
                 negative=negative if dept == "办公室" else None)
        for row in data["activities"]:
            for name in filter(None, str(row[ACTIVITY_HEADERS.index("佐证材料")] or "").split("、")):
                when = dt.date(2019, 5, 1) if (dept, name) == OLD_PHOTO else \
                    dt.date.fromisoformat(str(row[1]))
                jpeg(inbox / dept / name, when)
    return inbox
