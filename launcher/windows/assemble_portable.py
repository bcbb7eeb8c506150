"""Assemble the portable 工作台 folder for Windows: a standalone CPython (the official "embeddable package" zip
from python.org, 3.12 or newer) with the project's wheels unpacked into it, the project beside it, and
启动工作台.bat to double-click. No one-file frozen executable (antivirus software flags those).

Run it on any machine with Python (Linux is fine):

    # 1. the wheels of the pinned dependencies, for Windows, from PyPI:
    python launcher/windows/assemble_portable.py --requirements > requirements-win.txt
    python -m pip download --only-binary=:all: --platform win_amd64 --python-version 3.12 \\
        --implementation cp -d wheels -r requirements-win.txt
    # 2. the embeddable CPython: python-3.12.x-embed-amd64.zip from https://www.python.org/downloads/windows/
    # 3. the folder (and a ZIP of it to copy to the office PC):
    python launcher/windows/assemble_portable.py --python-zip python-3.12.10-embed-amd64.zip \\
        --wheels wheels --out dist/文明单位创建工作台 --zip

The folder: 启动工作台.bat, python/ (CPython + site-packages), app/ (pipeline, config, examples, README,
empty inbox/ and output/). Copy it anywhere (a USB stick too) and double-click 启动工作台.bat."""

from __future__ import annotations

import argparse
import shutil
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# profiles/ and .wenming-profile: the unit's own profile and the remembered choice travel with the folder
APP_PARTS = ["pipeline", "config", "examples", "README.md", "pyproject.toml", "docs", "profiles", ".wenming-profile"]


class AssemblyError(Exception):
    """The folder cannot be assembled (one line for the console)."""


def _pth_file(python_dir: Path) -> Path:
    found = sorted(python_dir.glob("python3*._pth"))
    if not found:
        raise AssemblyError(f"{python_dir} 中没有 python3xx._pth：请使用 python.org 的 Windows embeddable package")
    return found[0]


def _version(pth: Path) -> tuple[int, int]:
    digits = pth.stem.replace("python", "")  # python312 -> 312
    return int(digits[0]), int(digits[1:])


def assemble(python_zip: Path, wheels: Path, out: Path, make_zip: bool = False) -> Path:
    """Build the portable folder at `out` (replaced if it exists); returns it, or the ZIP when asked for one."""
    if not python_zip.is_file():
        raise AssemblyError(f"找不到 CPython 压缩包：{python_zip}")
    wheel_files = sorted(wheels.glob("*.whl")) if wheels.is_dir() else []
    if not wheel_files:
        raise AssemblyError(f"{wheels} 中没有 .whl 文件：请先用 pip download 下载（见本文件开头的说明）")
    if out.exists():
        shutil.rmtree(out)
    python_dir, app = out / "python", out / "app"
    python_dir.mkdir(parents=True)
    with zipfile.ZipFile(python_zip) as zf:
        zf.extractall(python_dir)
    pth = _pth_file(python_dir)
    if _version(pth) < (3, 12):
        raise AssemblyError(f"{python_zip.name} 是 Python {'.'.join(map(str, _version(pth)))}，须 3.12 或更新版本")
    site = python_dir / "Lib" / "site-packages"
    site.mkdir(parents=True)
    for wheel in wheel_files:
        if "win" not in wheel.name and not wheel.name.endswith("-none-any.whl"):
            raise AssemblyError(f"{wheel.name} 不是 Windows 或通用的 wheel，请用 --platform win_amd64 下载")
        with zipfile.ZipFile(wheel) as zf:
            for member in zf.namelist():  # a wheel is a zip laid out as site-packages: unpack, refusing escapes
                target = (site / member).resolve()
                if not str(target).startswith(str(site.resolve())):
                    raise AssemblyError(f"{wheel.name} 含有不安全的路径：{member}")
            zf.extractall(site)
    # the embeddable CPython ignores PYTHONPATH and site-packages unless its ._pth names them
    lines = [ln for ln in pth.read_text(encoding="utf-8").splitlines() if ln.strip() != "#import site"]
    lines += ["Lib\\site-packages", "..\\app", "import site"]
    pth.write_text("\r\n".join(dict.fromkeys(lines)) + "\r\n", encoding="utf-8")
    app.mkdir()
    for part in APP_PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, app / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif src.is_file():
            shutil.copy2(src, app / part)
    for folder in ("inbox", "output"):
        (app / folder).mkdir(exist_ok=True)
    shutil.copy2(Path(__file__).with_name("启动工作台.bat"), out / "启动工作台.bat")
    (out / "使用说明.txt").write_text(
        "双击“启动工作台.bat”，浏览器会打开文明单位创建工作台。\r\n"
        "各部门报送的文件存放在 app\\inbox，生成的文件在 app\\output；关闭工作台请关闭黑色窗口。\r\n",
        encoding="utf-8")
    if make_zip:
        archive = shutil.make_archive(str(out), "zip", out.parent, out.name)
        return Path(archive)
    return out


def requirements() -> list[str]:
    """The pinned runtime dependencies from pyproject.toml, one per line for `pip download -r`."""
    import tomllib
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(data["project"]["dependencies"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="组装 Windows 便携版工作台文件夹")
    parser.add_argument("--requirements", action="store_true", help="只列出要下载的依赖（供 pip download -r 使用）")
    parser.add_argument("--python-zip", type=Path, help="python.org 的 embeddable package（3.12 或更新）")
    parser.add_argument("--wheels", type=Path, help="pip download 下载的 Windows wheel 所在文件夹")
    parser.add_argument("--out", type=Path, default=Path("dist/文明单位创建工作台"), help="生成的文件夹")
    parser.add_argument("--zip", action="store_true", help="同时打包为 ZIP")
    args = parser.parse_args(argv)
    if args.requirements:
        print("\n".join(requirements()))
        return 0
    if args.python_zip is None or args.wheels is None:
        print("错误：请指定 --python-zip 和 --wheels", file=sys.stderr)
        return 2
    try:
        made = assemble(args.python_zip, args.wheels, args.out, args.zip)
    except AssemblyError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    print(f"已生成：{made}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
