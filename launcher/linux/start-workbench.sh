#!/bin/sh
# 文明单位创建工作台：第一次运行时安装所需软件（需能访问 PyPI 或本文件夹旁的 wheels/），然后打开工作台。
# Used by the desktop entry (UOS, Kylin, Debian, Ubuntu); can also be run from a terminal.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
PROJECT=${WENMING_PROJECT:-$(cd "$HERE/../.." && pwd)}
cd "$PROJECT" || { echo "错误：找不到工作台所在文件夹 $PROJECT"; exit 1; }
VENV="$PROJECT/.venv"
PY="$VENV/bin/python"
LOG="$PROJECT/output/工作台安装日志.txt"

ready() { [ -x "$PY" ] && "$PY" -c "import pipeline.web.app, flask, pandas" >/dev/null 2>&1; }

pause_on_error() {
    echo "$1"
    # keep the window open long enough to read, when started from the desktop
    if [ -t 0 ]; then printf '按回车键关闭本窗口…'; read -r _; fi
    exit 1
}

if ! ready; then
    echo "第一次运行：正在安装所需软件，约需几分钟，请稍候……（详情记录在 $LOG）"
    mkdir -p "$PROJECT/output"
    if [ ! -x "$PY" ]; then  # an existing environment is repaired in place, never recreated
        BASE=${WENMING_PYTHON:-}
        if [ -z "$BASE" ]; then
            for candidate in python3.13 python3.12 python3.11 python3.10 python3; do
                if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
                    BASE=$candidate; break
                fi
            done
        fi
        [ -n "$BASE" ] || pause_on_error "错误：本机没有 Python 3.10 或更新版本，请先安装（统信 UOS、麒麟：sudo apt install python3 python3-venv）"
        "$BASE" -m venv "$VENV" >"$LOG" 2>&1 || pause_on_error "错误：无法创建 Python 环境（统信 UOS、麒麟：sudo apt install python3-venv）；详情见 $LOG"
    fi
    {
        if [ -d "$PROJECT/wheels" ]; then
            "$PY" -m pip install --no-index --find-links "$PROJECT/wheels" -e "$PROJECT"
        else
            "$PY" -m pip install -e "$PROJECT"
        fi
    } >>"$LOG" 2>&1 || pause_on_error "错误：安装失败（需能访问 PyPI，或把 wheels 文件夹放在工作台文件夹中）；详情见 $LOG"
    ready || pause_on_error "错误：安装后仍无法启动工作台；详情见 $LOG"
    echo "安装完成。"
fi

# the unit's profile: the one remembered in .wenming-profile (make use UNIT=…, or the 工作台's 设置), else config/
if [ -f "$PROJECT/.wenming-profile" ]; then
    echo "使用记住的单位配置（.wenming-profile）：$(grep -v '^#' "$PROJECT/.wenming-profile" | head -n 1)"
fi
set -- --inbox "$PROJECT/inbox" --out "$PROJECT/output"
[ -n "${WENMING_PORT:-}" ] && set -- "$@" --port "$WENMING_PORT"
[ -n "${WENMING_NO_BROWSER:-}" ] && set -- "$@" --no-browser
exec "$PY" -m pipeline serve "$@"
