@echo off
rem 文明单位创建工作台（Windows）：双击打开。便携文件夹自带 python\；否则第一次运行时用本机 Python 安装所需软件。
chcp 65001 >nul
setlocal
cd /d "%~dp0"
set "APP=%~dp0"
if exist "%~dp0app\pipeline\__init__.py" set "APP=%~dp0app"
if exist "%~dp0python\python.exe" (
  set "PY=%~dp0python\python.exe"
  goto run
)
if not exist "%APP%\.venv\Scripts\python.exe" (
  echo 第一次运行：正在安装所需软件，约需几分钟，请稍候……
  py -3 -m venv "%APP%\.venv" 2>nul || python -m venv "%APP%\.venv"
  if errorlevel 1 (
    echo 错误：本机没有 Python 3.10 或更新版本，请安装 Python 或使用便携版文件夹。
    pause
    exit /b 1
  )
  "%APP%\.venv\Scripts\python.exe" -m pip install -e "%APP%"
  if errorlevel 1 (
    echo 错误：安装失败，请检查网络后重试。
    pause
    exit /b 1
  )
)
set "PY=%APP%\.venv\Scripts\python.exe"
:run
cd /d "%APP%"
rem 单位配置：serve 读取本文件夹中的 .wenming-profile（make use UNIT=… 或工作台“设置”页记住的配置），没有时用 config\
if exist "%APP%\.wenming-profile" echo 使用记住的单位配置（.wenming-profile）
"%PY%" -m pipeline serve --inbox "%APP%\inbox" --out "%APP%\output"
if errorlevel 1 pause
