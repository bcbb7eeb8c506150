"""`python -m pipeline.use_profile [NAME|default|--demo-inbox]`: what `make use UNIT=…` and make's demo rule
call. Remembers a profile (or forgets it), shows the one in use, or names the inbox `make report` demonstrates
with when inbox/ is empty."""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.profile import BUNDLED_DIR, PROJECT_DIR, forget_profile, remember_profile, resolve_config_dir


def demo_inbox(folder: str | Path | None = None) -> Path:
    """The inbox `make report` demonstrates with when inbox/ is empty: the bundled sample for the bundled profile,
    the profile's own example inbox (`<profile>_inbox` beside it), else one written for its catalog."""
    cdir = resolve_config_dir()
    if cdir is None or cdir.resolve() == BUNDLED_DIR.resolve():
        return PROJECT_DIR / "examples" / "inbox"
    sibling = cdir.parent / f"{cdir.name}_inbox"
    if sibling.is_dir():
        return sibling
    import shutil
    from pipeline.catalog import load_config
    from pipeline.documents.sample_data import write_sample_inbox
    out = Path(folder) if folder else PROJECT_DIR / "output" / "示例收件箱" / cdir.name
    if out.exists():
        shutil.rmtree(out)
    write_sample_inbox(load_config(cdir), out)
    return out


def main(argv: list[str] | None = None) -> int:
    """Remember a profile (make use UNIT=…), forget it (default), show the one in use, or name the demo inbox."""
    import sys
    args = sys.argv[1:] if argv is None else argv
    try:
        if args and args[0] in ("default", "config", "默认"):
            forget_profile()
            print("已恢复使用项目自带的配置 config/")
        elif args and args[0] == "--demo-inbox":
            print(demo_inbox())
        elif args:
            marker = remember_profile(args[0])
            print(f"已记住单位配置：{resolve_config_dir()}（记在 {marker}；make、启动器和工作台都将使用它）")
        else:
            found = resolve_config_dir()
            print(f"当前使用的单位配置：{found or BUNDLED_DIR}")
    except ConfigError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
