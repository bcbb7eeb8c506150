"""Reminders that escalate with the days left: each stage at most once per department (a daily stage once a
day), 逾期通报 to the coordinator; previewed and sent from the 工作台's mail page."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json

import yaml

from builders import report as run_report
from mailkit import Recorder, smtp_server
from webkit import ROOT, Client, make_folders, running

from pipeline.catalog import load_config
from pipeline.mail import reminders

DEADLINE = dt.date(2026, 11, 20)


def _setup(tmp_path):
    inbox, out, config = make_folders(tmp_path)
    scores = run_report(inbox, out, "--config", str(config))
    return load_config(config), scores, out


def test_stages_escalate_and_each_is_sent_once(tmp_path):
    cfg, scores, out = _setup(tmp_path)
    missing = [d["name"] for d in scores["departments"] if not d["submitted"]]
    assert cfg.settings["deadline"] == DEADLINE and len(missing) == 7
    assert reminders.due(cfg, scores, out, dt.date(2026, 11, 10)) == []            # 10 days before: nothing yet
    first = reminders.due(cfg, scores, out, dt.date(2026, 11, 14))                 # 6 days before: 提醒
    assert [d.department for d in first] == missing and {d.stage.name for d in first} == {"提醒"}
    reminders.record(cfg, out, first, [d.department for d in first[:5]])           # two were not mailed
    again = reminders.due(cfg, scores, out, dt.date(2026, 11, 15))
    assert [d.department for d in again] == missing[5:]                            # once per stage per department
    daily = reminders.due(cfg, scores, out, dt.date(2026, 11, 18))                 # 2 days before: 每日催报
    assert {d.stage.name for d in daily} == {"每日催报"} and len(daily) == 7
    reminders.record(cfg, out, daily, missing)
    assert reminders.due(cfg, scores, out, dt.date(2026, 11, 18)) == []            # not twice a day
    assert len(reminders.due(cfg, scores, out, dt.date(2026, 11, 19))) == 7        # but again the next day
    late = reminders.due(cfg, scores, out, dt.date(2026, 11, 22))                  # after the deadline
    assert {d.stage.name for d in late} == {"逾期通报"} and len(late) == 7
    notices = reminders.build(cfg, scores, late, out, ROOT / "input_templates")
    assert len(notices) == 1 and notices[0].department == "调宣部"                  # one message, to the coordinator
    body = notices[0].message.get_body(("plain",)).get_content()
    assert "已过2天" in body and "、".join(missing) in body
    reminders.record(cfg, out, late, ["调宣部"])
    assert reminders.due(cfg, scores, out, dt.date(2026, 11, 23)) == []
    notice = reminders.build(cfg, scores, daily[:1], out, ROOT / "input_templates")[0]
    assert str(notice.message["Subject"]).startswith("【每日催报】") and notice.kind == "每日催报"


def test_mail_page_previews_and_sends_reminders(tmp_path):
    handler = Recorder()
    with smtp_server(handler) as port:
        with running(tmp_path) as srv:
            cfg_path = srv.bench.config_dir / "unit.yaml"
            unit = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
            for i, d in enumerate(unit["departments"]):
                d["email"] = f"dept{i}@unit.cn"
            unit["deadline"] = dt.date.today() + dt.timedelta(days=5)   # the 提醒 stage today
            unit["mail"].update(sender="coord@unit.cn", smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
            cfg_path.write_text(yaml.safe_dump(unit, allow_unicode=True), encoding="utf-8")
            srv.bench.reload_config()
            run_report(srv.bench.inbox, srv.bench.out, "--config", str(srv.bench.config_dir))
            c = Client(srv.server.server_port)
            status, _, body = c.get("/mail")
            page = body.decode()
            assert status == 200 and 'id="due"' in page and "提醒" in page and "团委" in page
            status, _, body = c.post_form("/mail/reminders/preview", {})
            assert status == 200 and "【提醒】" in body.decode()
            written = sorted(p.name for p in (srv.bench.out / "outbox" / "催报").iterdir() if not p.name.startswith("."))
            assert len(written) == 7 and "团委-提醒.eml" in written and handler.envelopes == []
            status, _, body = c.post_form("/mail/reminders/send", {"smtp_password": "", "confirm": "1"})
            assert status == 200 and "已发送 7 封" in body.decode()
            subjects = [email.message_from_bytes(e.content, policy=email.policy.default)["Subject"]
                        for e in handler.envelopes]
            assert len(subjects) == 7 and all(s.startswith("【提醒】") for s in subjects)
            log = json.loads((srv.bench.out / reminders.LOG).read_text(encoding="utf-8"))
            assert "团委|提醒" in log
            status, _, body = c.get("/mail")
            assert "今天没有需要发送的催报" in body.decode()                    # each stage at most once
