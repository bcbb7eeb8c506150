#!/bin/sh
# 在“开始菜单”和桌面上放一个“文明单位创建工作台”图标（统信 UOS、麒麟等 Linux 桌面）。
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PROJECT=$(cd "$HERE/../.." && pwd)
NAME="文明单位创建工作台"
APPS="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
mkdir -p "$APPS"
ENTRY="$APPS/wenming-workbench.desktop"
sed -e "s|@LAUNCHER@|$HERE/start-workbench.sh|g" -e "s|@PROJECT@|$PROJECT|g" -e "s|@ICON@|$HERE/workbench.svg|g" \
    "$HERE/wenming-workbench.desktop.in" > "$ENTRY"
chmod +x "$ENTRY" "$HERE/start-workbench.sh"
DESKTOP=""
for candidate in "$(xdg-user-dir DESKTOP 2>/dev/null || true)" "$HOME/桌面" "$HOME/Desktop"; do
    if [ -n "$candidate" ] && [ "$candidate" != "$HOME" ] && [ -d "$candidate" ]; then DESKTOP=$candidate; break; fi
done
if [ -n "$DESKTOP" ]; then
    cp "$ENTRY" "$DESKTOP/$NAME.desktop"
    chmod +x "$DESKTOP/$NAME.desktop"
    command -v gio >/dev/null 2>&1 && gio set "$DESKTOP/$NAME.desktop" metadata::trusted true 2>/dev/null || true
fi
echo "已添加“$NAME”图标：$ENTRY${DESKTOP:+，以及桌面 $DESKTOP}"
