"""Reminders that escalate as the deadline nears: configurable stages (e.g. 7 days before: 提醒, 3 days before:
每日催报, after the deadline: 逾期通报 to the coordinator), each sent at most once per stage per department
(once a day for a daily stage), recorded in a log in the output folder."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path

from pipeline.atomic import atomic_write_json
from pipeline import settings
from pipeline.catalog import Config
from pipeline.errors import ConfigError
from pipeline.mail.notices import Notice, notice_for
from pipeline.vocabulary import EMPTY, UNREADABLE, state_code

LOG = "催报记录.json"
DEFAULT_STAGES = [{"stage": "提醒", "days_before": 7}, {"stage": "每日催报", "days_before": 3, "daily": True},
                  {"stage": "逾期通报", "days_after": 1, "to": "coordinator"}]


@dataclass(frozen=True)
class Stage:
    name: str
    offset: int            # days relative to the deadline when it starts: -7 = 7 days before, 1 = the day after
    daily: bool = False    # sent again each day while the stage lasts
    to_coordinator: bool = False


@dataclass(frozen=True)
class Due:
    department: str
    stage: Stage
    days_left: int
    key: str               # what the log records: sent at most once per key


def stages(config: Config) -> list[Stage]:
    """The stages from unit.yaml's `reminders` list (or the default three), in the order they start."""
    raw = config.settings.get("reminders")
    raw = DEFAULT_STAGES if raw is None else raw
    out = []
    for i, entry in enumerate(raw if isinstance(raw, list) else [], 1):
        if not isinstance(entry, dict) or not entry.get("stage"):
            raise ConfigError(f"unit.yaml：reminders 第{i}项缺少名称（stage）")
        try:
            offset = -int(entry["days_before"]) if "days_before" in entry else int(entry.get("days_after", 0))
        except (TypeError, ValueError):
            raise ConfigError(f"unit.yaml：reminders 第{i}项的天数应为整数") from None
        out.append(Stage(str(entry["stage"]), offset, bool(entry.get("daily")), entry.get("to") == "coordinator"))
    return sorted(out, key=lambda s: s.offset)


def due(config: Config, scores: dict, out_dir: Path, today: dt.date | None = None) -> list[Due]:
    """The reminders to send today: for each department that has not reported, the latest stage reached,
    unless it was sent already (per stage, or per day for a daily stage)."""
    from pipeline import schedule
    deadline = schedule.deadline(config, int(scores.get("year") or config.year))   # in the scores' year
    if not isinstance(deadline, dt.date):
        return []
    today = today or dt.date.today()
    days_left = (deadline - today).days
    reached = [s for s in stages(config) if -days_left >= s.offset]
    if not reached:
        return []
    stage = reached[-1]
    sent = load_log(out_dir)
    out = []
    for dept in scores["departments"]:
        if dept.get("submitted") or state_code(dept.get("state")) in (UNREADABLE, EMPTY):
            continue  # reported (or sent something unreadable: that has its own notice)
        key = f"{dept['name']}|{stage.name}" + (f"|{today.isoformat()}" if stage.daily else "")
        if key not in sent:
            out.append(Due(dept["name"], stage, days_left, key))
    return out


def build(config: Config, scores: dict, dues: list[Due], scores_dir: Path, templates_dir: Path) -> list[Notice]:
    """The messages: a reminder with its template to each department, or one 逾期通报 to the coordinator."""
    notices = []
    by_name = {d["name"]: d for d in scores["departments"]}
    to_departments = [d for d in dues if not d.stage.to_coordinator]
    for d in to_departments:
        n = notice_for(config, scores, by_name[d.department], scores_dir, templates_dir)
        subject = str(n.message["Subject"])
        del n.message["Subject"]
        n.message["Subject"] = subject.replace("【催报】", f"【{d.stage.name}】", 1)
        notices.append(Notice(d.department, d.stage.name, n.message, n.fingerprint + d.key))
    late = [d for d in dues if d.stage.to_coordinator]
    if late:
        notices.append(_overdue_notice(config, scores, late))
    return notices


def _overdue_notice(config: Config, scores: dict, late: list[Due]) -> Notice:
    coordinator = settings.of(config).coordinator
    from pipeline import schedule
    deadline = schedule.deadline(config, int(scores.get("year") or config.year))   # in the scores' year
    names = "、".join(d.department for d in late)
    msg = EmailMessage()
    msg["Subject"] = f"【{late[0].stage.name}】{scores['year']}年文明单位创建台账逾期未报送部门（{len(late)}个）"
    sender = settings.of(config).mail.sender
    msg["From"] = formataddr((f"{config.short_name}{coordinator}", sender)) if sender else coordinator
    address = next((d.email for d in config.departments if d.name == coordinator), "")
    if address:
        msg["To"] = formataddr((coordinator, address))
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="wenming.local")
    msg.set_content(f"{coordinator}：\n\n报送截止日期{deadline.year}年{deadline.month}月{deadline.day}日已过"
                    f"{-late[0].days_left}天，以下{len(late)}个部门仍未报送{scores['year']}年文明单位创建台账：{names}。"
                    "\n\n请督促上述部门尽快报送。\n", charset="utf-8")
    return Notice(coordinator, late[0].stage.name, msg, "|".join(d.key for d in late))


def load_log(out_dir: Path) -> dict[str, str]:
    path = Path(out_dir) / LOG
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def record(config: Config, out_dir: Path, dues: list[Due], sent_departments: list[str]) -> None:
    """Note the reminders sent (those whose department, or the coordinator for 逾期通报, was mailed)."""
    coordinator = settings.of(config).coordinator
    log = load_log(out_dir)
    now = dt.datetime.now().isoformat(timespec="seconds")
    for d in dues:
        if (coordinator if d.stage.to_coordinator else d.department) in sent_departments:
            log[d.key] = now
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    atomic_write_json(Path(out_dir) / LOG, log)
