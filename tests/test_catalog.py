"""The standards catalog as data (contract section 1)."""

import shutil
from pathlib import Path

import pytest
import yaml

from builders import run
from pipeline.catalog import load_config
from pipeline.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
COUNTY = ROOT / "examples" / "county_config"


@pytest.fixture(scope="module")
def tianjin():
    return load_config(ROOT / "config")


def test_tianjin_catalog_has_3_indicators_12_items_35_standards(tianjin):
    assert [i.name for i in tianjin.indicators] == ["思想建设", "创建管理", "基础建设"]
    assert sum(len(i.items) for i in tianjin.indicators) == 12
    assert len(tianjin.standards) == 35


def test_codes_are_numbered_in_table_order(tianjin):
    codes = list(tianjin.standards)
    assert codes[0] == "1.1.1" and codes[-1] == "3.7.2"
    expected = [f"{i + 1}.{j + 1}.{k + 1}" for i, ind in enumerate(tianjin.indicators)
                for j, item in enumerate(ind.items) for k in range(len(item.standards))]
    assert codes == expected
    assert "参与率" in tianjin.standards["2.2.4"].title and "满意度" in tianjin.standards["2.2.4"].title
    assert "注册志愿者" in tianjin.standards["3.2.1"].title
    assert "参加志愿服务" in tianjin.standards["3.2.2"].title
    assert "法治宣传教育普及率" in tianjin.standards["3.5.1"].title


def test_metric_thresholds_and_strict_operator(tianjin):
    expected = {"participation_rate": 0.9, "satisfaction_rate": 0.9, "volunteer_registration_rate": 0.5,
                "party_volunteer_registration_rate": 0.9, "volunteer_service_rate": 0.9, "legal_education_rate": 0.95}
    assert {k: m.threshold for k, m in tianjin.metrics.items()} == expected
    assert all(m.op == ">" for m in tianjin.metrics.values())
    m = tianjin.metrics["participation_rate"]
    assert not m.passes(0.9) and m.passes(0.9001)


def test_standards_name_their_metrics(tianjin):
    s = tianjin.standards
    assert s["2.2.4"].metrics == ("participation_rate", "satisfaction_rate")
    assert s["3.2.1"].metrics == ("volunteer_registration_rate", "party_volunteer_registration_rate")
    assert s["3.2.2"].metrics == ("volunteer_service_rate",)
    assert s["3.5.1"].metrics == ("legal_education_rate",)


def test_responsible_departments_expand_all_and_aliases(tianjin):
    s = tianjin.standards
    assert s["2.2.4"].responsible == tuple(tianjin.department_names)          # 各部门
    assert s["2.1.4"].responsible[0] == "调宣部" and len(s["2.1.4"].responsible) == 10
    assert s["3.6.2"].responsible == ("机关党委办", "工会", "妇联", "团委")     # 机关党委 is an alias
    assert s["3.2.1"].responsible == ("机关党委办", "团委")


def test_min_evidence_defaults_to_one_and_follows_the_text(tianjin):
    s = tianjin.standards
    assert s["2.1.1"].min_evidence == 2 and s["1.3.1"].min_evidence == 1
    assert all(x.improvement for x in s.values())


def test_unit_file(tianjin):
    assert tianjin.unit == "天津市科学技术协会"
    assert tianjin.department_names == ["办公室", "调宣部", "组人部", "机关党委办", "机关纪委", "普及部", "工会",
                                        "妇联", "团委", "反协办"]
    assert tianjin.resolve_department(" 机关 党委 ") == "机关党委办"
    assert tianjin.settings["leadership_group"]["leader"] == "卢双盈"
    assert any("严重失信" in i for i in tianjin.negative_items)


def test_second_catalog_loads_through_the_same_code():
    county = load_config(COUNTY)
    assert county.unit == "某县科学技术局" and county.catalog_id == "county-2023"
    assert len(county.standards) == 3
    m = county.metrics["participation_rate"]
    assert m.op == ">=" and m.passes(0.9)
    assert county.standards["1.1.2"].responsible == ("办公室", "科普股", "机关支部")
    assert county.standards["2.1.1"].responsible == ("机关支部", "科普股")


def _broken(tmp_path, edit):
    target = tmp_path / "cfg"
    shutil.copytree(ROOT / "config", target)
    data = yaml.safe_load((target / "catalog.yaml").read_text(encoding="utf-8"))
    edit(data)
    (target / "catalog.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def test_unknown_department_in_catalog_is_named(tmp_path):
    cfg = _broken(tmp_path, lambda d: d["indicators"][0]["items"][0]["standards"][0].update(responsible=["宣传处"]))
    with pytest.raises(ConfigError, match=r"catalog.yaml 第\d+行：测评标准 1.1.1.*宣传处"):
        load_config(cfg)


def test_duplicate_code_is_named(tmp_path):
    def edit(d):
        d["indicators"][0]["items"][0]["standards"][1]["code"] = "1.1.1"
    with pytest.raises(ConfigError, match=r"catalog.yaml 第\d+行：测评标准 1.1.1 编码重复"):
        load_config(_broken(tmp_path, edit))


def test_bad_threshold_is_named(tmp_path):
    cfg = _broken(tmp_path, lambda d: d["metrics"]["participation_rate"].update(threshold="九成"))
    with pytest.raises(ConfigError, match=r"participation_rate.*九成"):
        load_config(cfg)


def test_broken_config_gives_one_chinese_line_and_nonzero_exit(tmp_path):
    cfg = _broken(tmp_path, lambda d: d["metrics"]["participation_rate"].update(op="约等于"))
    result = run("templates", "--config", str(cfg), "--out", str(tmp_path / "t"))
    assert result.exit_code != 0
    assert result.output.strip().count("\n") == 0 and "比较符" in result.output
