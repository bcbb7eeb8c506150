# 文明单位创建自查 — 常用命令（make report / make test）
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
INBOX  ?= inbox
OUT    ?= output

.PHONY: setup report templates plan sample pdf test bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

# 读取 inbox/ 中各部门报送的台账；inbox/ 中没有工作簿时改用示例收件箱
report: setup
	@if [ -n "$$(find $(INBOX) -type f \( -iname '*.xlsx' -o -iname '*.xls' -o -iname '*.xlsm' \) ! -name '~$$*' 2>/dev/null | head -n 1)" ]; then \
		$(PY) -m pipeline report --inbox $(INBOX) --out $(OUT); \
	else \
		echo "$(INBOX)/ 中没有报送的工作簿，本次使用示例收件箱 examples/inbox/ 演示运行"; \
		$(PY) -m pipeline report --inbox examples/inbox --out $(OUT); \
	fi

# 打开工作台网页（浏览器自动打开；按 Ctrl+C 关闭）
.PHONY: serve
serve: setup
	$(PY) -m pipeline serve --inbox $(INBOX) --out $(OUT)

templates: setup
	$(PY) -m pipeline templates --out input_templates

plan: setup
	$(PY) -m pipeline plan --out $(OUT)

sample: setup
	$(PY) examples/make_sample_inbox.py

pdf: setup
	$(PY) -m pipeline pdf --out $(OUT)

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(OUT)/* $(VENV)
	touch $(OUT)/.gitkeep
