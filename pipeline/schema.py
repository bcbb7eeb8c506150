"""The department workbook format (contract section 2): sheets, columns and their value kinds."""

from __future__ import annotations

from dataclasses import dataclass

TEMPLATE_FORMAT = 2  # bump when the sheet/column layout below changes on purpose
# 2: 制度文件 has a 佐证材料 column; code columns (测评标准, 工号, 文号) are text-formatted. Format-1 workbooks
#    (no 佐证材料 column) are still read: columns are matched by header and 佐证材料 is optional.


@dataclass(frozen=True)
class Column:
    key: str            # English identifier used in DataFrames
    name: str           # Chinese header as the template writes it
    kind: str = "text"  # text | seq | yesno | date | number | satisfaction | doctype | standard | inservice
    required: bool = False
    width: int = 12
    help: str = ""      # may name {年度}: filled from the profile (templates.column_text)
    example: str = ""   # may name {年度} {部门} {标准} {文件标准} {文号}: filled from the profile
    aliases: tuple[str, ...] = ()
    code: bool = False  # a code an office suite could take for a number or date (3.2.2, 1001): formatted as text

    @property
    def text_format(self) -> bool:
        return self.code or self.kind == "standard"


@dataclass(frozen=True)
class SheetSpec:
    kind: str
    name: str
    columns: tuple[Column, ...]
    anchors: tuple[str, ...] = ()  # header names that identify the header row when none is required
    title: str = ""

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    @property
    def header_keys(self) -> tuple[str, ...]:
        """Columns whose presence marks the header row."""
        return tuple(c.key for c in self.columns if c.required or c.name in self.anchors)


INFO_SHEET = "填报信息"
INFO_FIELDS = ("单位", "部门", "年度", "填报人", "联系电话", "填报日期", "模板版本")

YES_NO = ("是", "否")
SATISFACTION = ("满意", "基本满意", "不满意")
DOC_TYPES = ("计划", "方案", "制度", "总结", "记录", "其他")

ROSTER = SheetSpec("roster", "人员名单", (
    Column("seq", "序号", "seq", width=6),
    Column("name", "姓名", required=True, width=10, help="本部门在编在岗人员每人一行", example="张三"),
    Column("staff_id", "工号", width=10, help="有工号的请填写，用于跨部门去重", example="1001", aliases=("职工号", "编号"),
           code=True),
    Column("dept", "部门", width=12, help="留空即本部门", example="{部门}"),
    Column("in_service", "在职", "inservice", width=7, help="留空视为“是”；退休、调离填“否”", example="是"),
    Column("party", "党员", "yesno", width=7, help="中共党员（含预备党员）填“是”", example="是"),
    Column("volunteer", "注册志愿者", "yesno", width=11, help="已在志愿服务网注册的填“是”", example="是"),
    Column("served", "参加志愿服务", "yesno", width=12, help="本年度参加过志愿服务活动的填“是”", example="是"),
    Column("service_hours", "志愿服务时长(小时)", "number", width=12, help="本年度累计小时数", example="8"),
    Column("participates", "参与创建工作", "yesno", width=12, help="本年度参与过创建工作的填“是”", example="是"),
    Column("satisfaction", "满意度", "satisfaction", width=10, help="本人对创建工作的评价：满意、基本满意、不满意", example="满意"),
    Column("legal_edu", "参加普法教育", "yesno", width=12, help="本年度参加普法学习或考试的填“是”", example="是"),
), title="人员名单")

ACTIVITIES = SheetSpec("activities", "活动记录", (
    Column("seq", "序号", "seq", width=6),
    Column("date", "日期", "date", required=True, width=12, help="活动日期，如 {年度}-03-05", example="{年度}-03-05"),
    Column("title", "活动名称", required=True, width=30, help="活动的正式名称", example="学雷锋志愿服务进社区"),
    Column("standard", "测评标准", "standard", required=True, width=30, help="从下拉列表选择对应的测评标准", example="{标准}"),
    Column("host", "主办部门", width=12, help="留空即本部门", example="{部门}"),
    Column("participants", "参加人数", "number", width=9, help="参加人数或人次", example="25"),
    Column("hours", "时长(小时)", "number", width=9, help="活动时长", example="2"),
    Column("place", "地点", width=16, example="某某社区"),
    Column("content", "活动内容", width=40, help="简要说明活动内容和成效", example="为社区居民开展志愿服务和政策宣传"),
    Column("evidence", "佐证材料", width=24, help="照片、通知、签到表等材料的名称", example="签到表、照片"),
), title="活动记录")

DOCUMENTS = SheetSpec("documents", "制度文件", (
    Column("seq", "序号", "seq", width=6),
    Column("title", "文件名称", required=True, width=36, help="计划、方案、制度、总结、会议记录等文件的名称", example="{年度}年文明单位创建工作计划"),
    Column("number", "文号", width=18, example="{文号}", code=True),
    Column("date", "日期", "date", width=12, help="印发或形成日期", example="{年度}-02-20"),
    Column("type", "类型", "doctype", width=9, help="计划、方案、制度、总结、记录、其他", example="计划"),
    Column("standard", "测评标准", "standard", required=True, width=30, help="从下拉列表选择对应的测评标准", example="{文件标准}"),
    Column("evidence", "佐证材料", width=24, help="文件本身及其附件的文件名（随台账一并报送），多个用顿号分隔",
           example="{年度}年创建工作计划.pdf"),
), title="制度文件")

HIGHLIGHTS = SheetSpec("highlights", "工作亮点", (
    Column("standard", "测评标准", "standard", width=30, help="亮点对应的测评标准（可不填）", example="{标准}"),
    Column("text", "亮点", width=80, help="一段完整的文字，将原样写入自查报告", example="组建{部门}志愿服务队，全年开展志愿服务活动12次，服务群众300余人次。"),
), anchors=("亮点",), title="工作亮点")

HONOURS = SheetSpec("honours", "荣誉表彰", (
    Column("title", "荣誉名称", width=36, example="{年度}年度先进集体"),
    Column("grantor", "授予单位", width=24, example="上级主管部门"),
    Column("date", "日期", "date", width=12, example="{年度}-04-28"),
    Column("winner", "获得者", width=16, help="集体或个人", example="{部门}"),
), anchors=("荣誉名称",), title="荣誉表彰")

NEGATIVE = SheetSpec("negative", "负面清单自查", (
    Column("item", "项目", width=48),
    Column("exists", "是否存在", "yesno", width=10, help="逐项填写“是”或“否”", example="否"),
    Column("note", "说明", width=40, help="填“是”的须说明情况", example=""),
), anchors=("项目", "是否存在"), title="负面清单自查")

DATA_SHEETS: tuple[SheetSpec, ...] = (ROSTER, ACTIVITIES, DOCUMENTS, HIGHLIGHTS, HONOURS, NEGATIVE)
SHEET_BY_KIND = {s.kind: s for s in DATA_SHEETS}

#: For each kind, a field that must be present for the row to mean anything (beyond the contract's bold ones).
CONTENT_KEYS = {"highlights": ("text",), "honours": ("title",), "negative": ("item",)}


# ---------------------------------------------------------------- a catalog's own roster columns

_ROSTER_CACHE: dict[tuple, SheetSpec] = {}


def custom_columns(config) -> tuple[Column, ...]:
    """The yes/no 人员名单 columns a catalog adds for its own metrics (contract section 4, Further metrics)."""
    out = []
    for m in getattr(config, "custom_metrics", ()) or ():
        out.append(Column(m.column_key, m.column, "yesno", width=max(10, 2 * len(m.column) + 2),
                          help=f"用于计算{m.label}：{m.column}的填“是”，否则填“否”", example="是"))
    return tuple(out)


def roster_for(config) -> SheetSpec:
    """人员名单 with the catalog's own columns after the fixed ones (the fixed layout when it has none)."""
    extra = custom_columns(config)
    if not extra:
        return ROSTER
    key = tuple((c.key, c.name) for c in extra)
    if key not in _ROSTER_CACHE:
        _ROSTER_CACHE[key] = SheetSpec(ROSTER.kind, ROSTER.name, ROSTER.columns + extra, ROSTER.anchors, ROSTER.title)
    return _ROSTER_CACHE[key]


def sheets_for(config) -> tuple[SheetSpec, ...]:
    """The data sheets of this profile's workbook (DATA_SHEETS, with 人员名单 as roster_for gives it)."""
    roster = roster_for(config)
    return tuple(roster if s is ROSTER else s for s in DATA_SHEETS)


def sheet_for(config, kind: str) -> SheetSpec:
    return roster_for(config) if kind == "roster" else SHEET_BY_KIND[kind]
