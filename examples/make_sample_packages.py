"""Write sample unit packages for the roll-up (examples/packages/) and a roll-up config (examples/rollup_config/).

Each package is a real run: the sample inbox (or part of it) reported under another unit's name, then exported.
One unit uses the county catalog (compared only where codes agree); one unit is exported twice (the later wins).
Run: python examples/make_sample_packages.py [--out DIR] [--config-out DIR]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.catalog import load_config  # noqa: E402
from pipeline.report import collect, write_outputs  # noqa: E402
from pipeline.store.package import export_package  # noqa: E402

INBOX = ROOT / "examples" / "inbox"
# unit name -> department workbooks left out of the sample inbox (file name prefixes)
UNITS = {
    "天津市科学技术协会": [],
    "天津市科协学会服务中心": ["团委", "妇联"],
    "天津科学技术馆": ["机关纪委", "工会", "组人部"],
    "天津市科技咨询服务中心": ["普及部", "调宣部", "机关党委办", "办公室"],
    "天津市青少年科技中心": ["工会-2026年文明单位创建台账（初稿）"],
}
COUNTY_UNIT = "蓟州区科学技术协会"
EXPECTED_ALSO = ["天津市老科技工作者协会"]  # listed in the roll-up config, sends nothing


def unit_config(base: Path, unit: str, work: Path) -> Path:
    cdir = work / f"config-{unit}"
    shutil.copytree(base, cdir, dirs_exist_ok=True)
    text = (cdir / "unit.yaml").read_text(encoding="utf-8")
    (cdir / "unit.yaml").write_text(re.sub(r"(?m)^unit:.*$", f"unit: {unit}", text, count=1), encoding="utf-8")
    return cdir


def unit_inbox(leave_out: list[str], work: Path, name: str) -> Path:
    inbox = work / f"inbox-{name}"
    inbox.mkdir()
    for f in INBOX.iterdir():
        if not any(f.name.startswith(p) for p in leave_out):
            shutil.copy2(f, inbox / f.name)
    return inbox


def package(config_dir: Path, inbox: Path, out_zip: Path, work: Path) -> None:
    config = load_config(config_dir)
    result = collect(inbox, config, None)
    out = work / f"out-{out_zip.stem}"
    write_outputs(result, out)
    export_package(out, out_zip)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(ROOT / "examples" / "packages"))
    ap.add_argument("--config-out", default=str(ROOT / "examples" / "rollup_config"))
    args = ap.parse_args()
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="sample-packages-") as tmp:
        work = Path(tmp)
        for i, (unit, leave_out) in enumerate(UNITS.items(), 1):
            package(unit_config(ROOT / "config", unit, work), unit_inbox(leave_out, work, str(i)),
                    out / f"{i:02d}-{unit}.zip", work)
        # the same unit again, exported later from a fuller inbox: this one wins, the first is reported
        time.sleep(1.1)
        package(unit_config(ROOT / "config", "天津科学技术馆", work), unit_inbox(["机关纪委"], work, "again"),
                out / "06-天津科学技术馆（更正）.zip", work)
        package(unit_config(ROOT / "examples" / "county_config", COUNTY_UNIT, work), INBOX,
                out / f"07-{COUNTY_UNIT}.zip", work)
    cfg = Path(args.config_out)
    if cfg.exists():
        shutil.rmtree(cfg)
    cfg.mkdir(parents=True)
    for name in ("unit.yaml", "catalog.yaml", "negative_list.yaml"):  # wording and templates: the bundled ones
        shutil.copy2(ROOT / "config" / name, cfg / name)
    units = [*UNITS, COUNTY_UNIT, *EXPECTED_ALSO]
    (cfg / "rollup.yaml").write_text(
        "# 多单位汇总（rollup 命令）的设置\n"
        "organisation: 天津市科学技术协会   # 汇总单位（汇总报告标题和落款）\n"
        "units:                             # 应报送的单位；未收到数据包的单位列入“未报送单位”\n"
        + "".join(f"  - {u}\n" for u in units), encoding="utf-8")
    print(f"已生成 {len(list(out.glob('*.zip')))} 个示例数据包：{out}；汇总配置：{cfg}")


if __name__ == "__main__":
    main()
