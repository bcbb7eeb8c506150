"""Tests that need a program (LibreOffice, its Python bridge, Chromium, Dovecot, poppler) skip with their reason
where it is missing, and fail instead under CI=true (tests/conftest.py: `needs`, `@pytest.mark.needs`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import missing_reason, needs

ROOT = Path(__file__).resolve().parent.parent
WORD_COUNT = "tests/test_yeardocs.py::test_word_count_equals_libreoffice_writer_on_texts_and_every_filing_section"


def test_a_missing_program_skips_with_its_reason_and_fails_under_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-such-office"):
        needs("no-such-office")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true 时不跳过：需要 no-such-office"):
        needs("no-such-office")
    needs("sh")  # there: nothing happens


def _word_count_test(**env: str) -> subprocess.CompletedProcess:
    """Run the LibreOffice word-count test in a pytest of its own, with a Python lacking `uno` as the bridge
    (a machine with LibreOffice but without python3-uno)."""
    environ = {k: v for k, v in os.environ.items() if k != "CI"}
    environ.update(WENMING_UNO_PYTHON=sys.executable, PYTHONPATH=str(ROOT), **env)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rfs", "-p", "no:cacheprovider", WORD_COUNT],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=environ)


def test_without_python3_uno_the_word_count_test_skips_naming_the_package_and_fails_under_ci():
    probe = subprocess.run([sys.executable, "-c", "import uno"], capture_output=True)
    assert probe.returncode != 0  # this Python really lacks LibreOffice's bridge
    done = _word_count_test()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SKIPPED [1]" in done.stdout and "python3-uno" in done.stdout, done.stdout
    assert "ModuleNotFoundError" not in done.stdout
    done = _word_count_test(CI="true")
    assert done.returncode == 1 and "CI=true 时不跳过" in done.stdout, done.stdout  # an error at setup: not a skip


def test_each_reason_names_the_debian_package():
    for program, package in (("soffice", "libreoffice-writer-nogui"), ("calc", "libreoffice-calc-nogui"),
                             ("uno", "python3-uno"), ("pdftoppm", "poppler-utils"), ("chromium", "chromium"),
                             ("chromedriver", "chromium-driver"), ("dovecot", "dovecot-imapd"),
                             ("cjk-fonts", "fonts-noto-cjk")):
        missing_reason.cache_clear()
        reason = missing_reason(program)
        if reason is not None:
            assert package in reason, (program, reason)
    from conftest import PROGRAMS
    for program, package in (("soffice", "libreoffice-writer-nogui"), ("uno", "python3-uno"),
                             ("dovecot", "dovecot-imapd"), ("chromedriver", "chromium-driver")):
        assert package in PROGRAMS[program]
