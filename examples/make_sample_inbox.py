"""Write the bundled sample inbox (examples/inbox/) from the real department templates.

Nine of the ten departments report (反协办 does not), about 100 staff and 60 activities, one resubmission,
an old .xls, a photo and a .docx beside the workbooks, and a handful of the mistakes departments make.
Run: python examples/make_sample_inbox.py [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.catalog import load_config  # noqa: E402
from pipeline.schema import ACTIVITIES, DOCUMENTS, HIGHLIGHTS, HONOURS, NEGATIVE, ROSTER  # noqa: E402
from pipeline.templates import HEADER_ROW, build_template  # noqa: E402

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁颖琳晨欣悦瑶婷雪慧佳然博文"
STAFF = {"办公室": 14, "调宣部": 11, "组人部": 9, "机关党委办": 12, "机关纪委": 6, "普及部": 16, "工会": 8,
         "妇联": 7, "团委": 10}
ACTIVITY_TITLES = {
    "1.1.1": ["党组理论学习中心组专题学习", "青年理论学习小组读书班"], "1.1.3": ["形势政策宣讲报告会"],
    "1.2.1": ["社会主义核心价值观主题宣讲", "核心价值观知识竞赛"], "1.2.2": ["科技工作者职业道德专题教育"],
    "1.2.3": ["清明节网上祭英烈活动", "身边好人事迹分享会"], "1.3.1": ["“七一”主题党日活动", "“三会一课”专题组织生活会"],
    "1.3.2": ["廉政警示教育大会"], "2.1.1": ["党组会议研究文明单位创建工作"], "2.1.2": ["创建工作推动会"],
    "2.1.3": ["创建工作宣传栏更新"], "2.1.4": ["“双万双服促发展”企业走访"], "2.2.1": ["全域创文任务部署会"],
    "2.2.2": ["指导学会参与全域创文", "科普进社区助力创文"], "2.2.3": ["三年行动计划任务推进会"],
    "3.1.1": ["公民道德宣传日活动"], "3.1.2": ["最美科技工作者学习宣传"], "3.1.3": ["好家风好家训分享会"],
    "3.1.4": ["文明家庭评选"], "3.2.1": ["志愿服务队授旗仪式"], "3.2.2": ["学雷锋志愿服务进社区", "结对帮扶共建活动", "科技志愿服务下乡"],
    "3.2.3": ["志愿服务平台集中注册日"], "3.3.1": ["诚信主题教育"], "3.3.2": ["机关业务能力培训"],
    "3.4.1": ["移风易俗宣传"], "3.4.2": ["文明交通志愿引导", "文明上网主题教育"], "3.4.3": ["“光盘行动”文明餐桌倡议"],
    "3.5.1": ["民法典专题讲座", "宪法宣传周学习"], "3.5.2": ["党组会前学法"], "3.6.1": ["职工趣味运动会", "迎新春文艺联欢"],
    "3.6.2": ["“全民阅读”读书分享会", "健步走活动"], "3.7.1": ["“门前三包”环境整治"], "3.7.2": ["职工代表座谈会"],
}
SKIP_STANDARDS = {"1.1.2", "3.3.3", "2.1.1"}  # left short of evidence, so the report shows 佐证不足
# documents named as a unit names them (the others: "{年度}年{简称}工作方案")
DOCUMENT_TITLES = {"2.1.2": "{year}年创建文明单位工作计划", "2.2.1": "{year}年全域创文工作任务分解方案",
                   "3.2.3": "志愿服务登记注册和褒奖激励办法", "3.7.2": "机关民主管理和职工代表大会制度"}
HIGHLIGHTS_TEXT = {
    "调宣部": [("2.1.3", "在机关办公楼设置创建工作宣传栏，在官网、官微开设文明创建专栏，全年刊发创建信息36条。")],
    "机关党委办": [("1.3.1", "开展“我为群众办实事”实践活动，55名党员干部下沉社区入列轮值，为基层办实事70余件。")],
    "普及部": [("2.2.2", "指导各区开展全域科普、反邪教宣传、科技馆进校园等经常性科普活动，助力全域文明城市创建。")],
    "团委": [("3.2.2", "组建青年科技志愿服务队，全年开展志愿服务活动24次，累计服务时长560小时。")],
    "工会": [("3.6.1", "举办职工趣味运动会和迎新春文艺联欢，参与职工120余人次。")],
}
HONOURS_ROWS = {"普及部": [("全国科普工作先进集体", "中国科学技术协会", "2026-05-30", "普及部")],
                "妇联": [("天津市三八红旗集体", "天津市妇女联合会", "2026-03-06", "机关妇委会")]}


def person_name(rng: random.Random, used: set[str]) -> str:
    while True:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        if name not in used:
            used.add(name)
            return name


def fill(ws, rows: list[list]) -> None:
    for r, values in enumerate(rows, HEADER_ROW + 1):
        for c, v in enumerate(values, 1):
            if v is not None:
                ws.cell(r, c, v)


def yes(rng: random.Random, p: float) -> str:
    return rng.choice(("是", "是", "√", "Y", "有")) if rng.random() < p else rng.choice(("否", "否", "×"))


def roster_rows(dept: str, n: int, start_id: int, rng: random.Random, names: set[str]) -> list[list]:
    rows = []
    for i in range(n):
        volunteer = rng.random() < 0.66
        party = rng.random() < 0.6
        if party and rng.random() < 0.9:
            volunteer = True
        served = volunteer and rng.random() < 0.84
        rows.append([i + 1, person_name(rng, names), str(start_id + i), dept, None, "是" if party else "否",
                     "是" if volunteer else "否", "是" if served else "否",
                     rng.choice((4, 6, 8, "10小时", 12)) if served else None, yes(rng, 0.96),
                     rng.choices(("满意", "基本满意", "不满意"), (0.8, 0.16, 0.04))[0], yes(rng, 0.985)])
    return rows


def date_text(rng: random.Random, year: int, style: int) -> object:
    d = dt.date(year, rng.randint(1, 11), rng.randint(1, 28))
    return [d, f"{d.year}.{d.month}.{d.day}", f"{d.year}年{d.month}月{d.day}日", d.strftime("%Y-%m-%d")][style % 4]


def build_inbox(out: Path) -> None:
    config = load_config(ROOT / "config")
    year = config.year
    rng = random.Random(year)
    names: set[str] = set()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    labels = {s.code: s.label for s in config.standards.values()}
    staff_id = 1001
    plans = {}
    for dept, n in STAFF.items():
        wb = build_template(config, dept)
        info = wb["填报信息"]
        info["B5"], info["B6"], info["B7"] = person_name(rng, names), f"022-2345{rng.randint(1000, 9999)}", \
            dt.date(year, 11, rng.randint(10, 18))
        roster = roster_rows(dept, n, staff_id, rng, names)
        staff_id += n
        acts, docs = [], []
        for std in config.standards_for(dept):
            if std.code in SKIP_STANDARDS or std.code not in ACTIVITY_TITLES:
                continue
            if std.responsible[0] != dept and rng.random() < 0.8:
                continue  # most evidence is kept by the lead department
            for title in ACTIVITY_TITLES[std.code]:
                label = labels[std.code] if rng.random() < 0.6 else std.code
                acts.append([len(acts) + 1, date_text(rng, year, len(acts)), title, label, dept,
                             rng.choice((15, 20, 30, "25人", 40)), rng.choice((1, 2, 3)), "市科协机关",
                             f"组织开展{title}", rng.choice(("签到表、照片", "通知、照片", "会议记录"))])
            if std.code in ("1.1.1", "1.3.2", "2.1.2", "3.2.3", "3.4.3", "3.7.2", "2.2.1") and std.responsible[0] == dept:
                title = DOCUMENT_TITLES.get(std.code, "{year}年{short}工作方案").format(year=year, short=std.short)
                docs.append([len(docs) + 1, title, f"津科协〔{year}〕{len(docs) + 3}号",
                             date_text(rng, year, 3), rng.choice(("方案", "计划", "制度")), labels[std.code]])
        plans[dept] = (wb, roster, acts, docs)

    # typical mistakes, one or two per department
    _, roster, acts, _ = plans["工会"]
    roster[3][1] = None                                    # missing 姓名
    roster.append([len(roster) + 1, "退休 老赵", "0999", "工会", "退休", "是", "否", "否", None, "否", None, "否"])
    _, roster, acts, _ = plans["团委"]
    acts.append([len(acts) + 1, f"{year - 1}.12.20", "跨年志愿服务活动", labels["3.2.2"], "团委", 12, 2, "社区", "往年活动", "照片"])
    dup = plans["机关党委办"][1][0]
    roster.append([len(roster) + 1, dup[1], dup[2], "机关党委办", None, *dup[5:]])  # same person in two rosters
    _, _, acts, _ = plans["普及部"]
    acts.append([len(acts) + 1, f"{year}年6月1日", "科技周主题活动", "4.1.1 科普活动", "普及部", "200人", 3, "科技馆", "科技周", "照片"])
    _, roster, _, _ = plans["妇联"]
    roster[2][10] = "很好"                                 # not a valid 满意度
    roster[4][1] = "王  芳"
    plans["机关党委办"][0]["填报信息"]["B3"] = "机关党委"   # an alias

    name_evidence(plans, year)
    for dept, (wb, roster, acts, docs) in plans.items():
        fill(wb[ROSTER.name], roster)
        fill(wb[ACTIVITIES.name], acts)
        fill(wb[DOCUMENTS.name], docs)
        fill(wb[HIGHLIGHTS.name], [[labels[c], t] for c, t in HIGHLIGHTS_TEXT.get(dept, [])])
        fill(wb[HONOURS.name], [list(r) for r in HONOURS_ROWS.get(dept, [])])
        if NEGATIVE.name in wb.sheetnames:
            ws = wb[NEGATIVE.name]
            for r in range(HEADER_ROW + 1, HEADER_ROW + 1 + len(config.negative_items)):
                ws.cell(r, 2, "否")
        if dept == "机关纪委":
            write_xls(out / "机关纪委-文明单位创建台账.xls", config, roster, acts, docs)
            continue
        name = {"组人部": "组人部台账2026（终稿）.xlsx"}.get(dept, f"{dept}-{year}年文明单位创建台账.xlsx")
        if dept == "组人部":
            wb["填报信息"]["B3"] = None                     # department taken from the file name
        wb.save(out / name)

    # a resubmission: 工会's first draft, with an earlier 填报日期
    draft, roster, _, _ = plans["工会"]
    draft["填报信息"]["B7"] = dt.date(year, 10, 30)
    draft[ROSTER.name].cell(HEADER_ROW + 1, 2, "初稿人员")
    draft.save(out / f"工会-{year}年文明单位创建台账（初稿）.xlsx")
    os.utime(out / f"工会-{year}年文明单位创建台账（初稿）.xlsx", (0, dt.datetime(year, 10, 30).timestamp()))
    write_evidence(out, plans, year)


# ---------------------------------------------------------------- evidence (佐证材料) beside the workbooks
EVIDENCE_ACTIVITIES = 3   # activities per evidence-sending department that get photos (keeps the sample small)


def name_evidence(plans: dict, year: int) -> None:
    """Write file names into the 佐证材料 cells of the rows whose evidence write_evidence() sends."""
    for _, _, acts, _ in plans.values():
        for row in acts:
            row[9] = None  # only the rows below name files (keeps the sample's 校验报告 short)
    for k, (_, _, acts, _) in enumerate(plans[d] for d in ("机关党委办", "团委", "工会")):
        for row in acts[:EVIDENCE_ACTIVITIES]:
            title = row[2]
            row[9] = {0: f"{title}1.jpg、{title}2.jpg", 1: title, 2: f"工会-{title}1.jpg，工会-{title}2.jpg"}[k]
    plans["工会"][2][0][9] += "、照片3.jpg"             # named but never sent: a warning on that row
    docs = plans["调宣部"][3]
    if docs:
        docs[0].append(f"{docs[0][1]}.pdf")              # 制度文件 with its file named in 佐证材料
    docs = plans["办公室"][3] or plans["机关党委办"][3]
    if docs:
        docs[0].append(None)                             # matched by its 文件名称 (a Word file in a subfolder)


class GbkZipInfo(__import__("zipfile").ZipInfo):
    """A member name as Chinese zip tools write it: GBK bytes, no UTF-8 flag."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def _photo(path: Path, text: str, when: dt.date, hue: int) -> None:
    """A small real JPEG with its EXIF date taken."""
    from PIL import Image, ImageDraw, ImageFont
    im = Image.new("RGB", (360, 240), (40 + hue % 160, 90, 160 - hue % 120))
    draw = ImageDraw.Draw(im)
    for i in range(6):
        draw.rectangle((20 + i * 55, 150 - i * 12, 60 + i * 55, 220), fill=(230, 200 - i * 20, 120 + i * 15))
    font = None
    for candidate in ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                      "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"):
        if Path(candidate).is_file():
            font = ImageFont.truetype(candidate, 20)
            break
    draw.text((16, 16), text[:16], fill=(255, 255, 255), font=font)
    draw.text((16, 48), when.isoformat(), fill=(255, 255, 230), font=font)
    exif = Image.Exif()
    stamp = f"{when:%Y:%m:%d} 10:{hue % 60:02d}:00"
    exif[0x0132] = stamp
    exif.get_ifd(0x8769)[0x9003] = stamp
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, "JPEG", quality=60, exif=exif)


def write_evidence(out: Path, plans: dict, year: int) -> None:
    """Photos (real JPEGs with EXIF dates), a zipped photo folder with GBK names, a PDF and Word files,
    one name that is never sent and one file no row names."""
    import io
    import zipfile

    from pipeline.intake.values import parse_date

    def when(row) -> dt.date:
        day = parse_date(row[1])
        return day if isinstance(day, dt.date) else dt.date(year, 6, 1)

    for n, row in enumerate(plans["机关党委办"][2][:EVIDENCE_ACTIVITIES]):   # loose photos in a department folder
        for k in (1, 2):
            _photo(out / "机关党委办" / f"{row[2]}{k}.jpg", row[2], when(row), n * 7 + k)
    members = []                                                              # a ZIP made by a Chinese zip tool
    for n, row in enumerate(plans["团委"][2][:EVIDENCE_ACTIVITIES]):
        for k in (1, 2):
            buf = out / f".tmp{k}.jpg"
            day = when(row) if (n, k) != (0, 2) else dt.date(year - 1, 12, 30)   # one photo from last year
            _photo(buf, row[2], day, n * 11 + k)
            members.append((f"志愿服务照片/{row[2]}/现场{k}.jpg", buf.read_bytes()))
            buf.unlink()
    with zipfile.ZipFile(out / "团委-活动照片.zip", "w") as zf:
        for name, data in members:
            zf.writestr(GbkZipInfo(name, (year, 6, 1, 0, 0, 0)), data)
    for n, row in enumerate(plans["工会"][2][:EVIDENCE_ACTIVITIES]):         # loose photos named by department
        for k in (1, 2):
            _photo(out / f"工会-{row[2]}{k}.jpg", row[2], when(row), n * 5 + k + 40)
    _photo(out / "活动照片-学雷锋.jpg", "学雷锋志愿服务", dt.date(year, 3, 5), 99)   # no row names it
    docs = plans["调宣部"][3]
    if docs:
        from pypdf import PdfWriter
        writer = PdfWriter()
        for _ in range(3):
            writer.add_blank_page(595, 842)
        with open(out / f"{docs[0][1]}.pdf", "wb") as fh:
            writer.write(fh)
    from docx import Document
    docs = plans["办公室"][3] or plans["机关党委办"][3]
    if docs:
        doc = Document()
        doc.add_heading(docs[0][1], 1)
        doc.add_paragraph("为深入推进文明单位创建工作，制定本方案。")
        (out / "办公室").mkdir(exist_ok=True)
        doc.save(out / "办公室" / f"{docs[0][1]}.docx")
    doc = Document()
    doc.add_paragraph("各部门报送台账时，请将活动照片、文件一并发送。")
    doc.save(out / "报送说明.docx")
    del io


def write_xls(path: Path, config, roster, acts, docs) -> None:
    """An old-format .xls, as some departments still send (no dropdowns, plain sheets)."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    info = book.add_sheet("填报信息")
    for r, (k, v) in enumerate([("单位", config.unit), ("部门", "机关纪委"), ("年度", config.year),
                                ("填报人", "周敏"), ("填报日期", f"{config.year}年11月12日")]):
        info.write(r, 0, k)
        info.write(r, 1, v)
    for spec, rows in ((ROSTER, roster), (ACTIVITIES, acts), (DOCUMENTS, docs)):
        ws = book.add_sheet(spec.name)
        ws.write(0, 0, f"机关纪委{spec.title}")
        for c, col in enumerate(spec.columns):
            ws.write(1, c, col.name)
        for r, values in enumerate(rows, 2):
            for c, v in enumerate(values):
                if v is not None:
                    ws.write(r, c, v.isoformat() if isinstance(v, dt.date) else v)
    book.save(str(path))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="生成示例收件箱")
    parser.add_argument("--out", default=str(ROOT / "examples" / "inbox"))
    build_inbox(Path(parser.parse_args().out))
    print(f"示例收件箱已生成：{parser.parse_args().out}")
