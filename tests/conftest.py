import os
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402

from pipeline.catalog import load_config  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
#: the Python that has LibreOffice's `uno` module (Debian's python3-uno); tests/office.py and tests/lo_words.py
#: read the same variable
SYSTEM_PYTHON = os.environ.get("WENMING_UNO_PYTHON", "/usr/bin/python3")

# ---------------------------------------------------------------- tests that need a program
#
# A test that needs an external program says so with `@pytest.mark.needs("soffice", "uno")` (or calls
# `needs("dovecot")` inside a fixture). Without the program the test is skipped with its reason, naming the
# Debian package that brings it; with CI=true (.ci/run installs them all) it fails instead, so CI never skips.

#: program -> what it is and the Debian package that installs it (shown in the skip reason)
PROGRAMS = {
    "soffice": "LibreOffice（Debian 包 libreoffice-writer-nogui）",
    "calc": "LibreOffice Calc（Debian 包 libreoffice-calc-nogui）",
    "uno": "LibreOffice 的 Python 接口（Debian 包 python3-uno，供 /usr/bin/python3 使用）",
    "pdftoppm": "pdftoppm（Debian 包 poppler-utils）",
    "cjk-fonts": "中文字体（Debian 包 fonts-noto-cjk；页数按中文字体排版计算）",
    "chromium": "Chromium 浏览器（Debian 包 chromium）",
    "chromedriver": "ChromeDriver（Debian 包 chromium-driver）",
    "dovecot": "Dovecot IMAP 服务器（Debian 包 dovecot-imapd，且须以 root 运行）",
}


@lru_cache(maxsize=None)
def missing_reason(program: str) -> str | None:
    """Why `program` cannot be used here, or None when it can."""
    if program == "soffice":
        found = shutil.which("soffice") or shutil.which("libreoffice")
    elif program == "calc":
        found = (shutil.which("soffice") or shutil.which("libreoffice")) and any(
            Path(d, "libscdlo.so").exists() for d in ("/usr/lib/libreoffice/program", "/opt/libreoffice/program"))
    elif program == "uno":
        found = Path(SYSTEM_PYTHON).exists() and subprocess.run(
            [SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, timeout=60,
            env={k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}).returncode == 0
    elif program == "chromium":
        found = Path("/usr/bin/chromium").exists() or shutil.which("chromium")
    elif program == "chromedriver":
        found = Path("/usr/bin/chromedriver").exists() or shutil.which("chromedriver")
    elif program == "cjk-fonts":
        fc_list = shutil.which("fc-list")
        found = fc_list and subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True,
                                           timeout=60).stdout.strip()
    elif program == "dovecot":
        found = shutil.which("dovecot") and os.geteuid() == 0
    else:
        found = shutil.which(program)
    return None if found else f"需要 {PROGRAMS.get(program, program)}，本机没有"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def needs(*programs: str) -> None:
    """Skip the running test (fail it under CI=true) unless every program is there."""
    reasons = [r for r in map(missing_reason, programs) if r]
    if reasons:
        text = "；".join(reasons)
        if in_ci():
            pytest.fail(f"CI=true 时不跳过：{text}", pytrace=False)
        pytest.skip(text)


def pytest_configure(config):
    config.addinivalue_line("markers", "needs(*programs): the test needs these programs (see tests/conftest.py)")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    for mark in item.iter_markers("needs"):
        needs(*mark.args)


@pytest.fixture(autouse=True)
def _own_history_database(tmp_path, monkeypatch):
    """Every test gets its own history database, so no run compares against another test's years."""
    monkeypatch.setenv("WENMING_HISTORY", str(tmp_path / "history.sqlite"))


@pytest.fixture(autouse=True, scope="session")
def _no_remembered_profile(tmp_path_factory):
    """Tests use the profile they name: a choice remembered on this machine (.wenming-profile, WENMING_CONFIG)
    is not theirs."""
    import os
    from pipeline import profile
    home, env = profile.PROFILE_HOME, os.environ.pop(profile.PROFILE_ENV, None)
    profile.PROFILE_HOME = tmp_path_factory.mktemp("profile-home")
    yield
    profile.PROFILE_HOME = home
    if env is not None:
        os.environ[profile.PROFILE_ENV] = env


@pytest.fixture(scope="module")
def config():
    """The shipped config/ (unit.yaml, catalog), loaded once per test module."""
    return load_config(ROOT / "config")
