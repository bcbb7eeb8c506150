"""The yearly fields of config/unit.yaml (year, deadline, report date, department e-mail addresses):
read, and written back with the file's comments and layout kept (ruamel.yaml round trip), after the
same loader the command line uses has accepted the new file."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from pipeline.addresses import AddressError, normal_address, visible
from pipeline.atomic import atomic_write_text
from pipeline.catalog import DEFAULT_CONFIG_DIR, Config, load_config
from pipeline.errors import ConfigError


@dataclass
class YearlySettings:
    year: int
    deadline: str          # YYYY-MM-DD or ""
    report_date: str
    emails: dict[str, str] = field(default_factory=dict)


def _yaml() -> YAML:
    y = YAML()  # round trip: comments, order and quoting kept
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)  # as the shipped file is laid out
    return y


def read_settings(config_dir: str | Path | None = None) -> YearlySettings:
    cfg = load_config(config_dir)
    return _from_config(cfg)


def _from_config(cfg: Config) -> YearlySettings:
    def day(value) -> str:
        return value.isoformat() if isinstance(value, dt.date) else ""
    return YearlySettings(cfg.year, day(cfg.settings.get("deadline")), day(cfg.settings.get("report_date")),
                          {d.name: d.email for d in cfg.departments})


def _parse_day(text: str, label: str) -> dt.date | None:
    text = (text or "").strip()
    if not text:
        return None
    m = re.fullmatch(r"(\d{4})[-./年](\d{1,2})[-./月](\d{1,2})日?", text)
    try:
        if not m:
            raise ValueError
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ConfigError(f"{label}“{text}”不是有效日期，请写成 2026-11-20") from None


def update_settings(config_dir: str | Path | None, year: str | None = None, deadline: str | None = None,
                    report_date: str | None = None, emails: dict[str, str] | None = None) -> Config:
    """Write the yearly fields into unit.yaml, keeping its comments; nothing is written unless the whole
    configuration loads. A field given as None (a form that does not carry it) is left as it is; so is every
    department missing from `emails`. Returns the new configuration."""
    cdir = Path(config_dir) if config_dir else DEFAULT_CONFIG_DIR
    path = cdir / "unit.yaml"
    y = _yaml()
    try:
        data = y.load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError, UnicodeDecodeError):
        raise ConfigError(f"配置文件 {path} 无法读取") from None
    if not isinstance(data, dict):
        raise ConfigError("unit.yaml 应为“键: 值”格式")
    if year is not None:
        try:
            data["year"] = int(str(year).strip())
        except ValueError:
            raise ConfigError(f"unit.yaml：年度“{year}”不是年份") from None
        if not 2000 <= data["year"] <= 2100:
            raise ConfigError(f"unit.yaml：年度“{year}”不是年份")
    if deadline is not None:
        data["deadline"] = _parse_day(deadline, "报送截止日期")
    if report_date is not None:
        data["report_date"] = _parse_day(report_date, "报告落款日期")
    emails = emails or {}
    for entry in data.get("departments") or []:
        if not isinstance(entry, dict) or entry.get("name") not in emails or emails[entry["name"]] is None:
            continue
        typed = str(emails[entry["name"]] or "")
        try:
            address = normal_address(typed)
        except AddressError as exc:
            raise ConfigError(f"{entry['name']}的邮箱“{visible(typed.strip())}”格式不对：{exc}") from None
        if address or entry.get("email"):
            entry["email"] = address
    buf = io.StringIO()
    y.dump(data, buf)
    text = buf.getvalue()
    with tempfile.TemporaryDirectory(prefix="wenming-config-") as tmp:  # the same loader judges the new file
        trial = Path(tmp) / "config"
        shutil.copytree(cdir, trial)
        (trial / "unit.yaml").write_text(text, encoding="utf-8")
        load_config(trial)
    atomic_write_text(path, text)
    return load_config(cdir)
