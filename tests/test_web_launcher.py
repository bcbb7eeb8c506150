"""Without a terminal: the Linux desktop launcher (tested here for real) and the Windows portable folder
(its assembly tested here; the .bat itself needs Windows and is not run)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

from builders import free_port


ROOT = Path(__file__).resolve().parent.parent
LINUX = ROOT / "launcher" / "linux"
WINDOWS = ROOT / "launcher" / "windows"
VENV_PYTHON = Path(sys.executable)


def _project_copy(tmp: Path) -> Path:
    """The project as a fresh clone has it (tracked files), with the venv this test suite runs in."""
    proj = tmp / "proj"
    for part in ("pipeline", "config", "examples", "launcher"):
        shutil.copytree(ROOT / part, proj / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "Makefile", "README.md"):
        shutil.copy2(ROOT / part, proj / part)
    return proj


def _ready_venv(venv: Path) -> None:
    """A small environment of its own that sees the packages of the one running these tests (a path line in
    a .pth file: that environment's own .pth files, such as its editable install, are not processed)."""
    import sysconfig
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "tests-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")


def test_desktop_entry_points_at_the_launcher(tmp_path):
    proj = _project_copy(tmp_path)
    home = tmp_path / "home"
    (home / "桌面").mkdir(parents=True)
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / ".local/share"), "LANG": "zh_CN.UTF-8"}
    done = subprocess.run(["sh", str(proj / "launcher/linux/install-desktop.sh")], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    entry = home / ".local/share/applications/wenming-workbench.desktop"
    on_desktop = home / "桌面" / "文明单位创建工作台.desktop"
    assert entry.is_file() and on_desktop.read_text(encoding="utf-8") == entry.read_text(encoding="utf-8")
    fields = dict(line.split("=", 1) for line in entry.read_text(encoding="utf-8").splitlines() if "=" in line)
    launcher = Path(fields["Exec"].strip('"'))
    assert launcher == proj / "launcher/linux/start-workbench.sh" and os.access(launcher, os.X_OK)
    assert fields["Name"] == "文明单位创建工作台" and fields["Type"] == "Application" and fields["Terminal"] == "true"
    assert Path(fields["Icon"]).is_file() and Path(fields["Path"]) == proj
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stdout + check.stderr


def test_launcher_opens_the_workbench_and_stops_on_ctrl_c(tmp_path):
    proj = _project_copy(tmp_path)
    _ready_venv(proj / ".venv")   # set up already (what the first run leaves)
    port = free_port()
    env = {**os.environ, "WENMING_NO_BROWSER": "1", "WENMING_PORT": str(port), "PYTHONUNBUFFERED": "1",
           "PIP_NO_INDEX": "1"}
    proc = subprocess.Popen(["sh", str(proj / "launcher/linux/start-workbench.sh")], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        line, seen = "", []
        deadline = time.time() + 60
        while time.time() < deadline and "工作台已启动" not in line:
            line = proc.stdout.readline()
            seen.append(line)
            if not line and proc.poll() is not None:
                break
        assert "工作台已启动：" in line and not any("安装" in s for s in seen), seen  # set up: nothing installed
        url = line.split("：", 1)[1].strip()
        assert url == f"http://127.0.0.1:{port}/"
        with urllib.request.urlopen(url, timeout=30) as resp:
            page = resp.read().decode("utf-8")
        assert "各部门报送情况" in page and "调宣部" in page
        assert (proj / "inbox").is_dir()  # the launcher's inbox is the project's
        os.killpg(proc.pid, signal.SIGINT)   # Ctrl+C in the terminal window
        rest, _ = proc.communicate(timeout=30)
        assert "工作台已关闭" in rest and "Traceback" not in rest
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_launcher_first_run_without_a_package_source_says_so(tmp_path):
    proj = _project_copy(tmp_path)
    env = {**os.environ, "WENMING_PYTHON": str(VENV_PYTHON), "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "",
           "WENMING_NO_BROWSER": "1"}
    done = subprocess.run(["sh", str(proj / "launcher/linux/start-workbench.sh")], env=env, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 1
    assert "第一次运行：正在安装所需软件" in done.stdout and "错误：安装失败" in done.stdout
    assert (proj / ".venv/bin/python").exists()                       # it did set up the environment
    assert (proj / "output" / "工作台安装日志.txt").read_text(encoding="utf-8").strip()


# ---------------------------------------------------------------- Windows: the portable folder

def _embeddable(tmp: Path, version: str = "312") -> Path:
    """A stand-in for python.org's embeddable zip: the same ._pth layout (its python.exe is not run here)."""
    path = tmp / f"python-{version}-embed-amd64.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"python{version}._pth", f"python{version}.zip\r\n.\r\n\r\n# Uncomment to run site.main()\r\n#import site\r\n")
        zf.writestr("python.exe", b"MZ")
        zf.writestr(f"python{version}.zip", b"")
    return path


def _wheel(folder: Path, name: str, tag: str = "py3-none-any") -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}-1.0-{tag}.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name}/__init__.py", "VALUE = 42\n")
        zf.writestr(f"{name}-1.0.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    return path


def _assemble(*args: str):
    return subprocess.run([sys.executable, str(WINDOWS / "assemble_portable.py"), *args], capture_output=True,
                          text=True, timeout=120)


def test_portable_folder_is_assembled_from_wheels(tmp_path):
    wheels = tmp_path / "wheels"
    _wheel(wheels, "demo_pure")
    _wheel(wheels, "demo_binary", "cp312-cp312-win_amd64")
    out = tmp_path / "dist" / "文明单位创建工作台"
    done = _assemble("--python-zip", str(_embeddable(tmp_path)), "--wheels", str(wheels), "--out", str(out), "--zip")
    assert done.returncode == 0, done.stderr
    bat = (out / "启动工作台.bat").read_bytes()
    assert b"\r\n" in bat and b"\n" not in bat.replace(b"\r\n", b"") and "pipeline serve".encode() in bat
    pth = (out / "python" / "python312._pth").read_text(encoding="utf-8").splitlines()
    assert "Lib\\site-packages" in pth and "..\\app" in pth and "import site" in pth and "#import site" not in pth
    site = out / "python" / "Lib" / "site-packages"
    assert (site / "demo_pure" / "__init__.py").is_file() and (site / "demo_binary" / "__init__.py").is_file()
    assert (out / "app" / "pipeline" / "web" / "templates" / "board.html").is_file()
    assert (out / "app" / "config" / "unit.yaml").is_file() and (out / "app" / "inbox").is_dir()
    # what python.exe would see through its ._pth: the app and the unpacked wheels import
    probe = subprocess.run([sys.executable, "-c", "import sys; sys.path[:0] = sys.argv[1:3]; import demo_pure, pipeline.web;"
                            "print(demo_pure.VALUE, pipeline.web.__file__)", str(site), str(out / "app")],
                           capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0 and probe.stdout.startswith("42 ") and str(out / "app") in probe.stdout
    with zipfile.ZipFile(out.parent / "文明单位创建工作台.zip") as zf:
        assert "文明单位创建工作台/启动工作台.bat" in zf.namelist()


def test_portable_assembly_refuses_old_python_and_foreign_wheels(tmp_path):
    wheels = tmp_path / "wheels"
    _wheel(wheels, "demo_pure")
    done = _assemble("--python-zip", str(_embeddable(tmp_path, "311")), "--wheels", str(wheels),
                     "--out", str(tmp_path / "out"))
    assert done.returncode == 1 and "须 3.12 或更新版本" in done.stderr
    _wheel(wheels, "demo_linux", "cp312-cp312-manylinux_2_17_x86_64")
    done = _assemble("--python-zip", str(_embeddable(tmp_path)), "--wheels", str(wheels), "--out", str(tmp_path / "o2"))
    assert done.returncode == 1 and "不是 Windows 或通用的 wheel" in done.stderr
    done = _assemble("--python-zip", str(tmp_path / "missing.zip"), "--wheels", str(wheels), "--out", str(tmp_path / "o3"))
    assert done.returncode == 1 and "找不到 CPython 压缩包" in done.stderr


def test_serve_prints_the_address_opens_the_browser_and_stops_on_ctrl_c(tmp_path):
    """`python -m pipeline serve`: the default browser ($BROWSER here, as on any desktop) gets the address."""
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" > "{opened}"\n', encoding="utf-8")
    browser.chmod(0o755)
    port = free_port()
    env = {**os.environ, "BROWSER": str(browser), "PYTHONUNBUFFERED": "1", "DISPLAY": ""}
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", "--inbox", str(tmp_path / "inbox"),
                             "--out", str(tmp_path / "out"), "--port", str(port), "--token", "abc123"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = proc.stdout.readline()
        second = proc.stdout.readline()
        url = f"http://127.0.0.1:{port}/?token=abc123"
        assert first.strip() == f"工作台已启动：{url}" and "访问口令：abc123" in second
        deadline = time.time() + 30
        while time.time() < deadline and not opened.exists():
            time.sleep(0.2)
        assert opened.read_text(encoding="utf-8").strip() == url
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0 and "工作台已关闭" in rest and "Traceback" not in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_portable_requirements_are_the_pinned_dependencies():
    done = _assemble("--requirements")
    lines = done.stdout.split()
    assert done.returncode == 0 and "Flask==3.1.2" in lines and all("==" in line for line in lines)
    assert not any(line.startswith(("pytest", "selenium")) for line in lines)  # test tools stay out
