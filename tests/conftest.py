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
