"""Wording of the history and roll-up sentences: the 历年对比 and 汇总报告 sections of config/wording.yaml.

Python passes facts by name; the frame text is the coordinator's. A broken entry is one Chinese line naming
the file, the key and the placeholder (the documents' wording engine), never a template engine's traceback.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

class Wording:
    """One section of config/wording.yaml, through the documents' wording engine
    (pipeline.documents.wording): say(key, **facts) fills one frame; the writer picks the key by the data."""

    def __init__(self, name: str, config_dir: str | Path | None = None) -> None:
        from pipeline.documents.wording import load_wording
        self.name, self.config_dir = name, config_dir
        self.words = load_wording(config_dir)

    def has(self, key: str) -> bool:
        return self.words.has(f"{self.name}.{key}")

    def say(self, key: str, **facts: Any) -> str:
        # numbers as text: the engine skips a frame whose placeholder is 0, and 0 is a figure here
        shown = {k: str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for k, v in facts.items()}
        return self.words.fill(f"{self.name}.{key}", shown, required=True)


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
