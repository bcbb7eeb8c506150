"""Write the second example unit's inbox (examples/county_hospital_inbox/) for the profile examples/county_hospital/.

Everything comes from that profile: its 7 科室, its catalog of 5 指标 / 13 项目 / 24 标准, its own metric (职工知晓率,
a 人员名单 column 知晓创建工作) and its year (2025). Six of the seven 科室 report (纪检监察室 does not), 护理部 sends
a first draft and a final version, and a few mistakes are made as departments make them: a code of another
catalog's form, an activity of the year before, a roster row without 姓名; the 知晓率 falls short of its line
while the 参与率 passes, so the standard judged on both is 未达标.
Run: python examples/make_hospital_inbox.py [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.catalog import load_config  # noqa: E402
from pipeline.documents.sample_data import sample_plans, write_sample  # noqa: E402
from pipeline.templates import template_filename  # noqa: E402

PROFILE = ROOT / "examples" / "county_hospital"
INBOX = ROOT / "examples" / "county_hospital_inbox"


def build_inbox(out: Path) -> list[Path]:
    config = load_config(PROFILE)
    year = config.year
    plans = sample_plans(config, seed=year, variety=False)
    plans.pop("纪检监察室")                                   # 未报送
    awareness = next(m for m in config.custom_metrics if m.key == "awareness_rate")
    for plan in plans.values():                               # about 1 in 6 does not know the work: 知晓率 < 90%
        for i, row in enumerate(plan.roster):
            if i % 6 == 5:
                row[awareness.column_key] = "否"
    med = plans["医务科"]
    med.activities.append({"date": dt.date(year, 5, 12), "title": "院感防控专题培训", "standard": "Ⅱ-4-2",
                           "host": "医务科", "participants": 40, "hours": 2, "place": "门诊楼报告厅",
                           "content": "院感防控知识培训", "evidence": "签到表"})
    med.activities.append({"date": dt.date(year - 1, 12, 20), "title": "岁末义诊", "standard": med.activities[0]["standard"],
                           "host": "医务科", "participants": 15, "hours": 3, "place": "城关社区",
                           "content": "往年活动", "evidence": "照片"})
    plans["人事科"].roster[2]["name"] = None
    if out.exists():
        shutil.rmtree(out)
    paths = write_sample(config, plans, out)
    # 护理部's first draft, sent earlier: superseded by the final version
    draft = {"护理部": plans["护理部"]}
    plans["护理部"].info["填报日期"] = dt.date(year, 10, 28)
    first = write_sample(config, draft, out, {"护理部": template_filename(config, "护理部").replace(".xlsx", "（初稿）.xlsx")})
    os.utime(first[0], (0, dt.datetime(year, 10, 28).timestamp()))
    return paths + first


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(INBOX))
    args = ap.parse_args()
    paths = build_inbox(Path(args.out))
    print(f"已生成 {len(paths)} 份台账：{args.out}")


if __name__ == "__main__":
    main()
