"""The docs are written for their readers and cannot drift from the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import make_docs  # noqa: E402

from pipeline.issues import MESSAGES  # noqa: E402


def test_generated_pages_equal_what_the_code_says():
    for path, text in make_docs.pages().items():
        committed = path.read_text(encoding="utf-8") if path.exists() else ""
        assert committed == text, f"{path.name} 与代码不一致：请运行 python tools/make_docs.py（make docs）"


def test_faq_lists_every_message_with_its_placeholders_named():
    faq = make_docs.faq_page()
    for code in MESSAGES:
        assert f"| `{code}` |" in faq, code
    assert "第〔行号〕行缺少〔栏目〕" in faq
    assert "{" not in faq  # no raw template placeholder reaches the reader


def test_readme_is_one_screen_of_chinese_with_working_links():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 45
    assert "make serve" in text and "make report" in text and "make test" in text
    assert "Windows" in text and "Linux" in text
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    assert {"docs/guide.md", "docs/faq.md", "docs/commands.md", "docs/developers.md"} <= set(links)
    for link in links:
        assert (ROOT / link).exists(), link


def test_make_clean_keeps_the_outputs_of_real_runs(tmp_path):
    out, venv = tmp_path / "output", tmp_path / "venv"
    (out / "示例").mkdir(parents=True)
    (out / "示例" / "scores.json").write_text("{}", encoding="utf-8")
    real = out / "2026年自查报告.docx"
    real.write_bytes(b"real")
    venv.mkdir()
    subprocess.run(["make", "-s", "clean", f"OUT={out}", f"VENV={venv}", "BENCH_TMP="], cwd=ROOT, check=True, timeout=60)
    assert real.read_bytes() == b"real"
    assert not (out / "示例").exists() and not venv.exists()
