"""Wording of the history and roll-up sentences: frames with named Chinese placeholders in config/wording.yaml.

Python passes facts by name; the frame text is the coordinator's. A broken entry is one Chinese line naming
the file, the key and the placeholder, never a template engine's traceback.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from pipeline.catalog import DEFAULT_CONFIG_DIR
from pipeline.errors import ConfigError

FILE = "wording.yaml"


@lru_cache(maxsize=8)
def _load(path: Path, mtime: float) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"第{mark.line + 1}行" if mark is not None else ""
        raise ConfigError(f"措辞文件 {path} {line}格式有误，无法读取，请检查引号和冒号") from None
    if not isinstance(data, dict):
        raise ConfigError(f"措辞文件 {path} 应为“键: 值”格式")
    return data


def section(name: str, config_dir: str | Path | None = None) -> dict[str, str]:
    """The entries of one section: the unit's config folder overrides the bundled file entry by entry."""
    out: dict[str, str] = {}
    for base in dict.fromkeys([DEFAULT_CONFIG_DIR, Path(config_dir) if config_dir else DEFAULT_CONFIG_DIR]):
        path = Path(base) / FILE
        if path.is_file():
            entries = _load(path, path.stat().st_mtime).get(name) or {}
            if isinstance(entries, dict):
                out.update({str(k): str(v) for k, v in entries.items() if v is not None})
    return out


class Wording:
    """say(key, **facts) fills one frame of a section."""

    def __init__(self, name: str, config_dir: str | Path | None = None) -> None:
        self.name = name
        self.entries = section(name, config_dir)

    def has(self, key: str) -> bool:
        return key in self.entries

    def say(self, key: str, **facts: Any) -> str:
        where = f"措辞文件 {FILE} 中“{self.name}.{key}”"
        frame = self.entries.get(key)
        if frame is None:
            raise ConfigError(f"{where}缺失，请从项目自带的 config/{FILE} 中复制该条")
        try:
            names = [f for _, f, _, _ in string.Formatter().parse(frame) if f is not None]
        except ValueError:
            raise ConfigError(f"{where}的花括号不成对：“{frame}”，请改为 {{名称}} 的形式") from None
        for name in names:
            if name not in facts:
                known = "、".join(f"{{{k}}}" for k in facts) or "无"
                raise ConfigError(f"{where}的占位“{{{name}}}”无法识别：“{frame}”；可用的占位：{known}")
        return frame.format(**{k: v for k, v in facts.items()})


def join(items: list[str], sep: str = "、") -> str:
    return sep.join(i for i in items if i)


def percent(value: float | None, decimals: int = 1) -> str:
    if value is None:
        return "无数据"
    text = f"{value * 100:.{decimals}f}"
    return re.sub(r"\.0+$", "", text) + "%"


SHORT_LABELS = {"participation_rate": "参与率", "satisfaction_rate": "满意度", "volunteer_registration_rate": "志愿者注册率",
                "party_volunteer_registration_rate": "党员注册率", "volunteer_service_rate": "志愿服务参与率",
                "legal_education_rate": "普法普及率"}


def metric_label(key: str, config: Any = None) -> str:
    """The short name of a metric for tables and charts (the catalog's label when the key is not a known one)."""
    metric = getattr(config, "metrics", {}).get(key)
    short = getattr(metric, "short", "")
    if short:
        return short
    if key in SHORT_LABELS:
        return SHORT_LABELS[key]
    return metric.label if metric is not None else key
