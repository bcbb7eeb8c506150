import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402

from pipeline.catalog import load_config  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _own_history_database(tmp_path, monkeypatch):
    """Every test gets its own history database, so no run compares against another test's years."""
    monkeypatch.setenv("WENMING_HISTORY", str(tmp_path / "history.sqlite"))


@pytest.fixture(scope="module")
def config():
    """The shipped config/ (unit.yaml, catalog), loaded once per test module."""
    return load_config(ROOT / "config")
