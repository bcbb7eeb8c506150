"""文明单位创建自查流水线: templates, ingest, validate, merge, score and render."""

__version__ = "1.0.0"
