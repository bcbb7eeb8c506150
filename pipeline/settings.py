"""The unit's settings from unit.yaml, typed and checked once, when the configuration is loaded
(`Config.unit_settings`): the report's dates and the coordinator, the mail servers and limits, the 工作台's
upload limits. A value that cannot be meant is one Chinese line naming `unit.yaml 的 <key>`, before any work."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any

from pipeline.errors import ConfigError

SECURITY_SMTP = ("ssl", "starttls", "none")
SECURITY_IMAP = ("auto", "ssl", "starttls", "none")


def _number(section: dict, prefix: str, key: str, default: float) -> float:
    """A positive number (the one check for every limit and time)."""
    raw = section.get(key, default)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"unit.yaml 的 {prefix}{key} 应为数字（当前为“{raw}”）") from None
    if value <= 0:
        raise ConfigError(f"unit.yaml 的 {prefix}{key} 应大于 0（当前为 {raw}）")
    return value


def _port(section: dict, prefix: str, key: str, default: int | None) -> int | None:
    raw = section.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ConfigError(f"unit.yaml 的 {prefix}{key} 应为端口号（1 到 65535 的整数，当前为“{raw}”）") from None
    if not 0 < value < 65536:
        raise ConfigError(f"unit.yaml 的 {prefix}{key} 应为端口号（1 到 65535 的整数，当前为 {raw}）")
    return value


def _text(section: dict, key: str, default: str = "") -> str:
    raw = section.get(key)
    return default if raw is None else (str(raw).strip() or default)


def _choice(section: dict, prefix: str, key: str, choices: tuple[str, ...]) -> str:
    value = _text(section, key, choices[0]).lower()
    if value not in choices:
        raise ConfigError(f"unit.yaml 的 {prefix}{key} 只能是 {'、'.join(choices)}（当前为“{section.get(key)}”）")
    return value


def _date(section: dict, key: str, label: str) -> dt.date | None:
    raw = section.get(key)
    if raw is None or raw == "":
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    raise ConfigError(f"unit.yaml：{label}“{raw}”应写成 2026-11-20")


def _section(unit: dict, key: str) -> dict:
    value = unit.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"unit.yaml 的 {key} 应为一组设置（“键: 值”逐行缩进书写）")
    return value


@dataclass(frozen=True)
class MailSettings:
    """unit.yaml `mail:`: the servers (passwords only from the environment or typed per session), the limits."""

    sender: str = ""
    smtp_host: str = ""
    smtp_port: int = 465
    smtp_security: str = "ssl"
    smtp_user: str = ""
    smtp_password_env: str = "WENMING_SMTP_PASSWORD"
    imap_host: str = ""
    imap_port: int | None = None
    imap_user: str = ""
    imap_folder: str = "INBOX"
    imap_security: str = "auto"
    imap_password_env: str = "WENMING_IMAP_PASSWORD"
    max_file_mb: float = 50
    max_message_mb: float = 100
    timeout_seconds: float = 60
    connection_deadline_seconds: float = 1800
    lock_wait_seconds: float = 10

    @classmethod
    def from_yaml(cls, mail: dict) -> "MailSettings":
        p, d = "mail.", cls()
        return cls(
            sender=_text(mail, "sender"), smtp_host=_text(mail, "smtp_host"),
            smtp_port=_port(mail, p, "smtp_port", d.smtp_port), smtp_security=_choice(mail, p, "smtp_security",
                                                                                     SECURITY_SMTP),
            smtp_user=_text(mail, "smtp_user"), smtp_password_env=_text(mail, "smtp_password_env", d.smtp_password_env),
            imap_host=_text(mail, "imap_host"), imap_port=_port(mail, p, "imap_port", None),
            imap_user=_text(mail, "imap_user"), imap_folder=_text(mail, "imap_folder", d.imap_folder),
            imap_security=_choice(mail, p, "imap_security", SECURITY_IMAP),
            imap_password_env=_text(mail, "imap_password_env", d.imap_password_env),
            **{f.name: _number(mail, p, f.name, f.default) for f in fields(cls)
               if f.name in ("max_file_mb", "max_message_mb", "timeout_seconds", "connection_deadline_seconds",
                             "lock_wait_seconds")})

    def number(self, key: str) -> float:
        return float(getattr(self, key))


@dataclass(frozen=True)
class WorkbenchSettings:
    """unit.yaml `workbench:`: what one upload may hold."""

    max_upload_mb: float = 50
    max_upload_files: int = 50
    max_request_mb: float = 200

    @classmethod
    def from_yaml(cls, web: dict) -> "WorkbenchSettings":
        p, d = "workbench.", cls()
        return cls(_number(web, p, "max_upload_mb", d.max_upload_mb),
                   int(_number(web, p, "max_upload_files", d.max_upload_files)),
                   _number(web, p, "max_request_mb", d.max_request_mb))


@dataclass(frozen=True)
class UnitSettings:
    """The settings of unit.yaml that steer the runs (the texts of the documents stay in `Config.settings`)."""

    deadline: dt.date | None = None
    report_date: dt.date | None = None
    coordinator: str = "牵头部门"
    coordinator_email: str = ""
    coordinator_contact: str = ""
    mail: MailSettings = field(default_factory=MailSettings)
    workbench: WorkbenchSettings = field(default_factory=WorkbenchSettings)

    @classmethod
    def from_yaml(cls, unit: dict) -> "UnitSettings":
        return cls(deadline=_date(unit, "deadline", "报送截止日期"), report_date=_date(unit, "report_date", "落款日期"),
                   coordinator=_text(unit, "coordinator", "牵头部门"),
                   coordinator_email=_text(unit, "coordinator_email"),
                   coordinator_contact=_text(unit, "coordinator_contact"),
                   mail=MailSettings.from_yaml(_section(unit, "mail")),
                   workbench=WorkbenchSettings.from_yaml(_section(unit, "workbench")))


def of(config: Any) -> UnitSettings:
    """A configuration's typed settings (built from its raw settings when it was made without load_config)."""
    typed = getattr(config, "unit_settings", None)
    if isinstance(typed, UnitSettings):
        return typed
    return UnitSettings.from_yaml(getattr(config, "settings", None) or {})
