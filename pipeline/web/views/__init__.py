"""Thin views: each calls the library and renders a template."""

from pipeline.web.views import board, department, documents, jobs, mail, settings, standards, upload

__all__ = ["board", "department", "documents", "jobs", "mail", "settings", "standards", "upload"]
