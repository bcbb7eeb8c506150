"""A unit's profile (contract section 10): every mistake named by file and line, all at once; the profile chosen
once and remembered."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from builders import run
from pipeline.catalog import load_config
from pipeline.errors import ConfigError
from pipeline.profile import PROFILE_ENV, PROFILE_FILE, ConfigProblems, remember_profile, resolve_config_dir

ROOT = Path(__file__).resolve().parent.parent
HOSPITAL = ROOT / "examples" / "county_hospital"


def _profile(tmp_path: Path, file: str, old: str, new: str) -> tuple[Path, int]:
    """A copy of the hospital profile with one text replaced; returns the folder and the line of the new text."""
    cdir = tmp_path / "cfg"
    if not cdir.exists():
        shutil.copytree(HOSPITAL, cdir)
    path = cdir / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    line = text[:text.index(new)].count("\n") + 1 + new[:len(new) - len(new.lstrip("\n"))].count("\n")
    return cdir, line


def _problems(cdir: Path) -> list[str]:
    with pytest.raises(ConfigProblems) as exc:
        load_config(cdir)
    return exc.value.problems


def test_unknown_key_names_the_likely_intended_one_and_its_line(tmp_path):
    cdir, line = _profile(tmp_path, "unit.yaml", "  deputies: [周立新]", "  deputy: [周立新]")
    assert _problems(cdir) == [f"unit.yaml 第{line}行：不认识的设置“deputy”，是不是 deputies？"]


def test_metric_for_metrics_in_a_standard_is_an_unknown_key(tmp_path):
    cdir, line = _profile(tmp_path, "catalog.yaml", "            metrics: [satisfaction_rate]",
                          "            metric: [satisfaction_rate]")
    assert _problems(cdir) == [f"catalog.yaml 第{line}行：不认识的设置“metric”，是不是 metrics？"]


def test_a_code_not_of_the_catalogs_form_is_named(tmp_path):
    cdir, line = _profile(tmp_path, "catalog.yaml", "            short: 医疗质量管理\n",
                          "            short: 医疗质量管理\n            code: Ⅱ-4-2\n")
    assert _problems(cdir) == [f"catalog.yaml 第{line + 1}行：编码“Ⅱ-4-2”不是本目录的编码形式（指标.项目.标准，如 3.1.1），请改正"]


def test_an_unquoted_code_read_as_a_number_is_named(tmp_path):
    cdir, line = _profile(tmp_path, "catalog.yaml", "            short: 医疗质量管理\n",
                          "            short: 医疗质量管理\n            code: 4.10\n")
    problems = _problems(cdir)
    assert problems[0] == f"catalog.yaml 第{line + 1}行：编码 4.10 没有加引号，被读成了数字 4.1；请写成 code: \"4.10\""
    assert "不是本目录的编码形式" in problems[1]


def test_a_duplicated_code_names_both_lines(tmp_path):
    cdir, first = _profile(tmp_path, "catalog.yaml", "            short: 医疗质量管理\n",
                           "            short: 医疗质量管理\n            code: \"3.1.1\"\n")
    cdir, second = _profile(tmp_path, "catalog.yaml", "            short: 优质护理服务\n",
                            "            short: 优质护理服务\n            code: \"3.1.1\"\n")
    assert _problems(cdir) == [f"catalog.yaml 第{second + 1}行：测评标准 3.1.1 编码重复（第{first + 1}行已有）"]


def test_a_threshold_below_one_percent_written_with_percent_is_not_meant(tmp_path):
    cdir, line = _profile(tmp_path, "catalog.yaml", "threshold: 85%", "threshold: 0.95%")
    assert _problems(cdir) == [f"catalog.yaml 第{line}行：计算指标 satisfaction_rate 的阈值“0.95%”不到 1%，"
                               f"不像是本意：是不是 95%（或写成 0.95）？"]


def test_a_threshold_above_one_hundred_percent_is_not_meant(tmp_path):
    cdir, line = _profile(tmp_path, "catalog.yaml", "threshold: 85%", "threshold: 120%")
    assert _problems(cdir) == [f"catalog.yaml 第{line}行：计算指标 satisfaction_rate 的阈值“120%”超出 0%–100% 的范围，"
                               f"比例最高是 100%"]


def test_a_metric_referenced_and_not_defined_is_named(tmp_path):
    cdir, line = _profile(tmp_path, "catalog.yaml", "metrics: [awareness_rate, participation_rate]",
                          "metrics: [awarenes_rate, participation_rate]")
    assert _problems(cdir) == [f"catalog.yaml 第{line}行：测评标准 2.2.1 引用了未定义的计算指标“awarenes_rate”，"
                               f"是不是 awareness_rate？"]


def test_a_responsible_department_not_in_the_unit_is_named(tmp_path):
    cdir, line = _profile(tmp_path, "catalog.yaml", "responsible: [护理部]", "responsible: [护理科]")
    problems = _problems(cdir)
    assert problems == [f"catalog.yaml 第{line}行：测评标准 3.1.2 的责任部门“护理科”不在 unit.yaml 的部门名单中"
                        f"（院务办、党建办、医务科、护理部、人事科、后勤科、纪检监察室），是不是 护理部？"]


def test_a_catalogs_own_metric_needs_its_column_and_denominator(tmp_path):
    cdir, line = _profile(tmp_path, "catalog.yaml", "    denominator: staff\n", "    denominator: 家属\n")
    assert _problems(cdir) == [f"catalog.yaml 第{line}行：分母“家属”无效，应为 staff（在职干部职工）、party（在职党员）"
                               f"或 volunteer（注册志愿者）"]


def test_every_mistake_at_once_by_check_and_at_load(tmp_path):
    _profile(tmp_path, "unit.yaml", "  deputies: [周立新]", "  deputy: [周立新]")
    _profile(tmp_path, "catalog.yaml", "threshold: 85%", "threshold: 0.95%")
    cdir, _ = _profile(tmp_path, "catalog.yaml", "responsible: [护理部]", "responsible: [护理科]")
    result = run("check", "--config", str(cdir))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 3 and all(x.startswith("错误：") for x in lines)
    assert "deputies" in lines[0] and "0.95%" in lines[1] and "护理科" in lines[2]
    loaded = run("templates", "--config", str(cdir), "--out", str(tmp_path / "t"))
    assert loaded.exit_code == 1 and loaded.output.count("\n") == 1
    assert "配置有 3 处错误" in loaded.output and "deputies" in loaded.output and "护理科" in loaded.output


def test_check_renders_the_profiles_own_sample_not_the_default_one(tmp_path):
    """A wording entry only this catalog's sample reaches: a broken one is found by check."""
    cdir = tmp_path / "cfg"
    shutil.copytree(HOSPITAL, cdir)
    (cdir / "wording.yaml").write_text("自查报告:\n  指标实际:\n    其他: \"{指标}为{实绩}\"\n", encoding="utf-8")
    result = run("check", "--config", str(cdir))
    assert result.exit_code == 1 and "{实绩}" in result.output and "cfg/wording.yaml" in result.output


# ---------------------------------------------------------------- the profile chosen once

def test_the_remembered_profile_is_used_when_no_config_is_given(tmp_path, monkeypatch):
    from pipeline import profile
    monkeypatch.setattr(profile, "PROFILE_HOME", tmp_path)
    monkeypatch.delenv(PROFILE_ENV, raising=False)
    assert resolve_config_dir() is None  # nothing remembered: the bundled config/
    marker = remember_profile(HOSPITAL)
    assert marker == tmp_path / PROFILE_FILE and "examples/county_hospital" in marker.read_text(encoding="utf-8")
    assert resolve_config_dir().resolve() == HOSPITAL.resolve()
    result = run("templates", "--out", str(tmp_path / "t"))
    assert result.exit_code == 0 and len(list((tmp_path / "t").glob("*2025年*.xlsx"))) == 7
    assert resolve_config_dir(str(ROOT / "config")).resolve() == (ROOT / "config").resolve()  # --config wins


def test_a_profile_is_found_by_its_name_and_through_the_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_config_dir("county_hospital").resolve() == HOSPITAL.resolve()
    monkeypatch.setenv(PROFILE_ENV, "county_hospital")
    assert resolve_config_dir().resolve() == HOSPITAL.resolve()
    monkeypatch.setenv(PROFILE_ENV, "no_such_unit")
    with pytest.raises(ConfigError, match="WENMING_CONFIG.*no_such_unit"):
        resolve_config_dir()


def test_a_remembered_profile_that_is_gone_is_one_chinese_line(tmp_path, monkeypatch):
    from pipeline import profile
    monkeypatch.setattr(profile, "PROFILE_HOME", tmp_path)
    monkeypatch.delenv(PROFILE_ENV, raising=False)
    (tmp_path / PROFILE_FILE).write_text("# 本机使用的单位配置\nprofiles/gone\n", encoding="utf-8")
    result = run("plan", "--out", str(tmp_path / "o"))
    assert result.exit_code == 1 and result.output.count("\n") == 1 and "profiles/gone" in result.output


def test_make_passes_unit_and_config_through(tmp_path):
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "WENMING_CONFIG" in text and "UNIT" in text and "use:" in text
    for launcher in (ROOT / "launcher" / "linux" / "start-workbench.sh", ROOT / "launcher" / "windows" / "启动工作台.bat"):
        assert ".wenming-profile" in launcher.read_text(encoding="utf-8", errors="replace")
    assert os.environ.get(PROFILE_ENV) is None


def test_the_workbench_settings_choose_and_remember_the_profile(tmp_path, monkeypatch):
    from pipeline import profile
    from webkit import Client, running
    monkeypatch.setattr(profile, "PROFILE_HOME", tmp_path)
    with running(tmp_path / "wb") as s:
        c = Client(s.server.server_port)
        status, _, body = c.get("/settings")
        assert status == 200 and "某县人民医院" in body.decode("utf-8")
        status, _, body = c.post_form("/settings/profile", {"profile": str(HOSPITAL)})
        assert status == 200 and "已改用单位配置：某县人民医院" in body.decode("utf-8")
        assert s.bench.config.unit == "某县人民医院"
        status, _, body = c.post_form("/settings/profile", {"profile": "/nowhere"})
        assert status == 400 and s.bench.config.unit == "某县人民医院"
    assert resolve_config_dir().resolve() == HOSPITAL.resolve()


def test_the_customisation_guide_lists_every_unit_setting_and_unit_word():
    from pipeline.catalog import UNIT_WORDS
    from pipeline.profile import UNIT_SCHEMA
    guide = (ROOT / "docs" / "customise.md").read_text(encoding="utf-8")
    missing = [k for k in UNIT_SCHEMA if f"`{k}`" not in guide and f"、`{k}`" not in guide]
    missing += [w for w in UNIT_WORDS if f"`{{{w}}}`" not in guide]
    assert not missing, missing


def test_check_samples_are_made_for_the_catalog(tmp_path):
    from pipeline.documents.check import SAMPLE_INBOX, sample_inbox
    from pipeline.report import collect
    hospital = load_config(HOSPITAL)
    assert sample_inbox(load_config(ROOT / "config"), tmp_path / "t") == SAMPLE_INBOX  # Tianjin's own sample
    folder = sample_inbox(hospital, tmp_path / "h")
    assert sorted(p.name.split("-")[0] for p in folder.glob("*.xlsx")) == sorted(hospital.department_names)
    result = collect(folder, hospital, hospital.year)
    assert not [i for i in result.issues if i.level == "error"]
    assert result.metrics["awareness_rate"].denominator > 0
    assert [k for k, m in result.metrics.items() if m.passed is False] == ["awareness_rate"]  # one falls short
    statuses = {s.standard.code: s.status for s in result.standards}
    assert list(statuses.values()).count("佐证不足") == 2 and "未填报" not in statuses.values()


def test_the_workbench_refuses_to_mail_on_scores_of_another_profile(tmp_path):
    import json
    from webkit import Client, running
    with running(tmp_path / "wb") as s:
        s.bench.out.mkdir(parents=True, exist_ok=True)
        (s.bench.out / "scores.json").write_text(json.dumps({
            "unit": "某县人民医院", "year": 2025, "catalog": "county-hospital-2025",
            "config": {"unit": "某县人民医院", "catalog": "county-hospital-2025", "fingerprint": "0" * 16},
            "metrics": {}, "standards": [], "departments": [], "issues": []}, ensure_ascii=False), encoding="utf-8")
        status, _, body = Client(s.server.server_port).post_form("/mail/preview", {})
        text = body.decode("utf-8")
        assert status >= 400 and "某县人民医院" in text and "不能据此发送通知" in text
        assert not (s.bench.out / "outbox").exists()


def test_a_further_metric_may_name_its_column_and_denominator_in_other_words(tmp_path):
    cdir, _ = _profile(tmp_path, "catalog.yaml", "    column: 知晓创建工作\n    denominator: staff\n",
                       "    roster_column: 知晓创建工作\n    denominator: 在职职工\n")
    m = load_config(cdir).metrics["awareness_rate"]
    assert (m.column, m.denominator, m.custom) == ("知晓创建工作", "staff", True)


def test_a_misspelt_entry_in_the_units_own_wording_is_named_by_check(tmp_path):
    cdir = tmp_path / "cfg"
    shutil.copytree(HOSPITAL, cdir)
    (cdir / "wording.yaml").write_text("自查报告:\n  工作思想: \"以创建促服务\"\n  指标实际:\n"
                                       "    awareness_rate: \"{指标}为{实际}\"\n", encoding="utf-8")
    result = run("check", "--config", str(cdir))
    assert result.exit_code == 1
    assert result.output.strip() == "错误：cfg/wording.yaml 第2行：不认识的措辞项“自查报告.工作思想”，是不是 自查报告.工作思路？"


def test_a_threshold_may_carry_its_operator(tmp_path):
    cdir, _ = _profile(tmp_path, "catalog.yaml", 'threshold: 85%, op: ">="', 'threshold: "≥85%"')
    m = load_config(cdir).metrics["satisfaction_rate"]
    assert (m.threshold, m.op) == (0.85, ">=")


MINIMAL_UNIT = """unit: 某市第一中学
short_name: 市一中
year: 2025
departments: [校长办公室, 教务处, 德育处, 总务处]
unit_words: {党组织: 校党委, 部门统称: 全校各部门, 部门称谓: 处室, 创建称号: 文明校园, 职工称谓: 教职工}
"""
MINIMAL_CATALOG = """id: school-2025
name: 文明校园测评细则
all_departments_words: [全校各部门]
metrics:
  participation_rate: {label: 教职工参与率, threshold: 90%, op: ">="}
  ethics_rate: {label: 师德承诺签订率, column: 签订师德承诺, denominator: in-service staff, threshold: "≥95%"}
indicators:
  - name: 思想道德
    items:
      - name: 师德建设
        standards:
          - {title: 师德承诺签订率不低于95%、参与率不低于90%。, responsible: [全校各部门],
             metrics: [ethics_rate, participation_rate], min_evidence: 0}
          - {title: 每学期开展师德专题教育。, responsible: [德育处], min_evidence: 2}
  - name: 校园环境
    items:
      - name: 环境整治
        standards:
          - {title: 校园环境整洁。, responsible: [总务处]}
"""


def test_a_minimal_profile_runs_without_anything_it_does_not_say(tmp_path):
    """A school with only the settings it needs (no 领导小组, 阶段, 负面清单, own wording): its sample, report and
    plan come out in its own words."""
    from pipeline.documents.sample_data import write_sample_inbox
    cdir = tmp_path / "school"
    cdir.mkdir()
    (cdir / "unit.yaml").write_text(MINIMAL_UNIT, encoding="utf-8")
    (cdir / "catalog.yaml").write_text(MINIMAL_CATALOG, encoding="utf-8")
    assert run("check", "--config", str(cdir)).exit_code == 0
    write_sample_inbox(load_config(cdir), tmp_path / "inbox")
    assert run("report", "--inbox", str(tmp_path / "inbox"), "--out", str(tmp_path / "out"), "--config", str(cdir),
               "--silent").exit_code == 0
    assert run("plan", "--config", str(cdir), "--out", str(tmp_path / "plan")).exit_code == 0
    import json
    scores = json.loads((tmp_path / "out" / "scores.json").read_text(encoding="utf-8"))
    assert scores["metrics"]["ethics_rate"]["op"] == ">=" and scores["metrics"]["ethics_rate"]["threshold"] == 0.95
    from docx import Document
    plan = "".join(p.text for p in Document(next((tmp_path / "plan").glob("*.docx"))).paragraphs)
    assert "市一中校党委统一领导下" in plan and "各处室主要负责同志" in plan and "文明校园" in plan and "党组" not in plan


def test_a_coordinator_outside_the_departments_is_pointed_out_by_check_without_stopping_the_rest(tmp_path):
    cdir, line = _profile(tmp_path, "unit.yaml", "coordinator: 党建办", "coordinator: 调宣部")
    assert load_config(cdir).notes == (f"unit.yaml 第{line}行：牵头部门“调宣部”不在部门名单中（院务办、党建办、医务科、护理部、"
                                       f"人事科、后勤科、纪检监察室），催报中发给牵头部门的邮件无人可收",)
    result = run("check", "--config", str(cdir))
    assert result.exit_code == 0 and f"提醒：unit.yaml 第{line}行：牵头部门“调宣部”" in result.output
