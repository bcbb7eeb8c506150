"""The small outputs of `report` (校验报告, 测评得分表, scores.json) written by a forked child beside the Word
documents: the same files as this process writes, and written here when the child fails or hangs."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
import zipfile
from pathlib import Path

import pytest

from pipeline import report
from pipeline.catalog import load_config
from pipeline.processes import START_ENV

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "inbox"
SMALL = ("validation", "scores_xlsx", "json")
pytestmark = pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="a forked child needs fork (not Windows)")


def _contents(out: Path) -> dict:
    """Every output's parts (a document's metadata holds the time it was written)."""
    seen = {}
    for p in sorted(out.iterdir()):
        if p.suffix in (".xlsx", ".docx"):
            with zipfile.ZipFile(p) as z:
                seen[p.name] = {n: z.read(n) for n in z.namelist() if not n.startswith("docProps/")}
        elif p.is_file() and not p.name.startswith("."):
            seen[p.name] = p.read_bytes()
    return seen


@pytest.fixture
def forked(monkeypatch):
    """The child from the first workbook on, forked whatever start method the suite runs with; the children
    started are listed."""
    monkeypatch.setenv(START_ENV, "fork")
    monkeypatch.setattr(report, "SMALL_BESIDE_MIN_FILES", 1)
    started = []
    start = report._start_small_outputs

    def recorded(*args):
        started.append(start(*args))
        return started[-1]
    monkeypatch.setattr(report, "_start_small_outputs", recorded)
    return started


def _in_the_child(monkeypatch, act) -> None:
    """The small outputs' writer does `act()` first when it runs in the child (not in this process)."""
    parent, write = os.getpid(), report._write_small_outputs

    def written(*args):
        if os.getpid() != parent:
            act()
        write(*args)
    monkeypatch.setattr(report, "_write_small_outputs", written)


def _run(out: Path) -> report.Result:
    result = report.collect(SAMPLE, load_config(ROOT / "config"))
    report.write_outputs(result, out)
    return result


@pytest.fixture(scope="module")
def here(tmp_path_factory) -> dict:
    """The outputs written all in this process (no fork)."""
    out = tmp_path_factory.mktemp("here")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report, "_start_small_outputs", lambda *args: None)
        _run(out)
    return _contents(out)


def test_the_child_writes_the_same_files_as_this_process(tmp_path, forked, here, monkeypatch):
    writers = []
    write = report._write_small_outputs

    def recorded(*args):
        writers.append(os.getpid())  # in the child: seen only through the files it leaves
        write(*args)
    monkeypatch.setattr(report, "_write_small_outputs", recorded)
    result = _run(tmp_path / "out")
    assert forked and forked[0] is not None, "the small outputs were not written by a child"
    assert forked[0][0].exitcode == 0
    assert writers == [], "this process wrote them too"
    assert _contents(tmp_path / "out") == here
    names = report.output_names(result.config, result.year)
    assert {names[k] for k in SMALL} <= set(here)
    for lap in ("write_validation_xlsx", "write_scores_xlsx", "write_json"):  # the child's stage times came back
        assert lap in result.timings


def test_a_failing_child_leaves_them_to_this_process(tmp_path, forked, here, monkeypatch, capfd):
    def broken():
        raise RuntimeError("the child broke")
    _in_the_child(monkeypatch, broken)
    capfd.readouterr()
    _run(tmp_path / "out")
    assert forked[0] is not None and forked[0][0].exitcode == 1
    assert _contents(tmp_path / "out") == here
    printed = capfd.readouterr()
    assert "the child broke" not in printed.out + printed.err and "Traceback" not in printed.err


def test_a_child_that_hangs_is_stopped_and_they_are_written_here(tmp_path, forked, here, monkeypatch):
    _in_the_child(monkeypatch, lambda: time.sleep(60))
    monkeypatch.setattr(report, "SMALL_OUTPUTS_SECONDS", 1)
    began = time.monotonic()
    _run(tmp_path / "out")
    assert time.monotonic() - began < 30
    assert forked[0] is not None and not forked[0][0].is_alive()
    assert _contents(tmp_path / "out") == here


def test_a_failure_of_the_word_documents_stops_the_child_and_leaves_no_set(tmp_path, forked, monkeypatch):
    """The run fails while the child is still writing: the child is stopped before the staging folder is
    removed, so nothing of the abandoned set is left in the output folder."""
    def broken(*args):
        time.sleep(0.3)
        raise OSError(28, "No space left on device")
    _in_the_child(monkeypatch, lambda: time.sleep(2))
    monkeypatch.setattr(report, "_write_word_documents", broken)
    result = report.collect(SAMPLE, load_config(ROOT / "config"))
    out = tmp_path / "out"
    with pytest.raises(OSError):
        report.write_outputs(result, out)
    child = forked[0][0]
    assert not child.is_alive()
    time.sleep(2.5)  # past the moment the child would have written
    left = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert [n for n in left if n not in (".lock",)] == [], left


def test_without_fork_they_are_written_here(monkeypatch, tmp_path):
    monkeypatch.setenv(START_ENV, "spawn")
    monkeypatch.setattr(report, "SMALL_BESIDE_MIN_FILES", 1)
    result = report.collect(SAMPLE, load_config(ROOT / "config"))
    assert report._start_small_outputs(result, {}) is None


def test_off_the_main_thread_there_is_no_child(tmp_path, forked, here):
    """A 工作台 job runs on a thread of its own: another thread may hold a lock a forked child would need."""
    import threading
    done = []
    job = threading.Thread(target=lambda: done.append(_run(tmp_path / "out")))
    job.start()
    job.join(120)
    assert done and forked == [None]
    assert _contents(tmp_path / "out") == here


def test_no_pipe_to_be_had_leaves_them_to_this_process(tmp_path, forked, here, monkeypatch):
    def no_descriptors(self, duplex=True):
        raise OSError(24, "Too many open files")
    result = report.collect(SAMPLE, load_config(ROOT / "config"))  # (the reading workers' pipes are had)
    monkeypatch.setattr(type(mp.get_context("fork")), "Pipe", no_descriptors)
    report.write_outputs(result, tmp_path / "out")
    assert forked == [None]
    assert _contents(tmp_path / "out") == here
