"""The Word outputs: one import point for the 自查报告, the internal 工作情况提示 and the 实施方案.

The writers live in self_report.py, internal.py and plan.py; sentences in config/wording.yaml
(wording.py), layout in docx_layout.py, templates with paragraph placeholders in compose.py.
"""

from __future__ import annotations

from pipeline.documents.internal import INTERNAL_TEMPLATE, internal_name, write_internal_notice
from pipeline.documents.plan import PLAN_TEMPLATE, plan_name, plan_rows, write_plan
from pipeline.documents.self_report import REPORT_TEMPLATE, ReportRun, SelfReport, chinese_date, write_self_report

__all__ = ["INTERNAL_TEMPLATE", "PLAN_TEMPLATE", "REPORT_TEMPLATE", "ReportRun", "SelfReport", "chinese_date",
           "internal_name", "plan_name", "plan_rows", "write_internal_notice", "write_plan", "write_self_report"]
