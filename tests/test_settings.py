"""unit.yaml's run settings are typed and checked once, when the configuration is loaded (pipeline.settings):
every command and the 工作台 see the same values, and a value that cannot be meant is one Chinese line."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from builders import run
from mailkit import mail_config

from pipeline.catalog import load_config
from pipeline.settings import MailSettings, UnitSettings, WorkbenchSettings, of
from pipeline.web.state import Limits


def test_settings_are_typed_at_load(tmp_path):
    cfg = load_config(mail_config(tmp_path, smtp_port=2525, timeout_seconds="7.5", imap_host="imap.unit.cn"))
    typed = cfg.unit_settings
    assert isinstance(typed, UnitSettings) and of(cfg) is typed
    assert typed.mail.smtp_port == 2525 and typed.mail.smtp_security == "none" and typed.mail.timeout_seconds == 7.5
    assert typed.mail.imap_host == "imap.unit.cn" and typed.mail.imap_port is None
    assert isinstance(typed.deadline, dt.date) and typed.deadline == cfg.settings["deadline"]
    assert typed.workbench == WorkbenchSettings(50, 50, 200)
    assert Limits.from_config(cfg) == Limits(50 << 20, 50, 200 << 20)


def test_defaults_when_a_section_is_absent():
    typed = UnitSettings.from_yaml({})
    assert typed.mail == MailSettings() and typed.mail.smtp_port == 465 and typed.coordinator == "牵头部门"
    assert typed.deadline is None and typed.workbench.max_upload_files == 50


@pytest.mark.parametrize("section,key,value,said", [
    ("mail", "smtp_port", "四六五", "unit.yaml 的 mail.smtp_port 应为端口号（1 到 65535 的整数，当前为“四六五”）"),
    ("mail", "smtp_port", 70000, "unit.yaml 的 mail.smtp_port 应为端口号（1 到 65535 的整数，当前为 70000）"),
    ("mail", "smtp_security", "tls", "unit.yaml 的 mail.smtp_security 只能是 ssl、starttls、none（当前为“tls”）"),
    ("mail", "max_message_mb", -5, "unit.yaml 的 mail.max_message_mb 应大于 0（当前为 -5）"),
    ("workbench", "max_upload_files", "很多", "unit.yaml 的 workbench.max_upload_files 应为数字（当前为“很多”）"),
    ("workbench", "max_request_mb", 0, "unit.yaml 的 workbench.max_request_mb 应大于 0（当前为 0）")])
def test_a_setting_that_cannot_be_meant_is_one_line_before_any_work(tmp_path, section, key, value, said):
    cfg = mail_config(tmp_path)
    unit = yaml.safe_load((cfg / "unit.yaml").read_text(encoding="utf-8"))
    unit[section][key] = value
    (cfg / "unit.yaml").write_text(yaml.safe_dump(unit, allow_unicode=True), encoding="utf-8")
    lines = (cfg / "unit.yaml").read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith(f"  {key}:"))
    said = said.replace("unit.yaml 的 ", f"unit.yaml 第{line}行：")  # named by its line, as every profile mistake is
    for args in (["templates", "--out", str(tmp_path / "t")], ["plan", "--out", str(tmp_path / "o")]):
        result = run(*args, "--config", str(cfg))
        assert result.exit_code == 1 and result.output.strip() == f"错误：{said}"
    assert not (tmp_path / "t").exists() and not (tmp_path / "o").exists()
