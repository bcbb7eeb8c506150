# 文明单位创建自查 — 常用命令（make report / make test）
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
INBOX  ?= inbox
OUT    ?= output
BENCH_TMP ?= bench/work bench/out

# 单位配置：UNIT=名称（profiles/ 或 examples/ 下的文件夹名，如 county_hospital）或 CONFIG=文件夹，只管这一次，
# 如 make report UNIT=county_hospital。make use UNIT=… 记住它（写入 .wenming-profile），以后 make、启动器和
# 工作台都用它；make use UNIT=default 恢复项目自带的 config/。命令行的 --config 总是优先。
UNIT   ?=
CONFIG ?=
PROFILE := $(strip $(or $(CONFIG),$(UNIT)))
ifneq ($(PROFILE),)
export WENMING_CONFIG := $(PROFILE)
endif
# inbox/ 为空时演示用的收件箱：自带配置用 examples/inbox/，其他单位用它自己的示例收件箱
DEMO = $$($(PY) -m pipeline.use_profile --demo-inbox)

.PHONY: use setup report templates plan check sample pdf test bench clean docs archive rollup sample-packages bench-rollup halfyear bulletin

setup: $(STAMP)

# 记住本机使用的单位配置：make use UNIT=county_hospital（或 CONFIG=文件夹）；make use UNIT=default 恢复默认
use: setup
	@unset WENMING_CONFIG; $(PY) -m pipeline.use_profile $(PROFILE)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

# 读取 inbox/ 中各部门报送的文件。inbox/ 中没有任何文件时（.gitkeep 等隐藏文件不算）才用自带的示例收件箱演示：
# 输出到 output/示例/，每份文件首页标注“示例数据”。inbox/ 中只要有文件（哪怕都打不开），就按真实报送处理并报告问题。
# $(call real_or_demo,命令,演示时多加的选项)
define real_or_demo
	@if [ -n "$$(find $(INBOX) -type f ! -name '.*' 2>/dev/null | head -n 1)" ]; then \
		$(PY) -m pipeline $(1) --inbox $(INBOX) --out $(OUT); \
	else \
		echo "$(INBOX)/ 中还没有任何报送文件，本次用示例收件箱 $(DEMO) 演示，输出到 $(OUT)/示例/（每份文件首页标注“示例数据”）"; \
		$(PY) -m pipeline $(1) --inbox "$(DEMO)" --out $(OUT)/示例 $(2); \
	fi
endef

report: setup
	$(call real_or_demo,report,--sample)

# 分类档案
archive: setup
	$(call real_or_demo,archive,)

# 上半年工作总结及下半年工作计划、创建工作进度通报
halfyear: setup
	$(call real_or_demo,halfyear,--sample)

bulletin: setup
	$(call real_or_demo,bulletin,--date 2026-09-15 --sample)

# 打开工作台网页（浏览器自动打开；按 Ctrl+C 关闭）
.PHONY: serve
serve: setup
	$(PY) -m pipeline serve --inbox $(INBOX) --out $(OUT)

templates: setup
	$(PY) -m pipeline templates --out input_templates

plan: setup
	$(PY) -m pipeline plan --out $(OUT)

# 改了 config/wording.yaml 或 Word 模板后：用示例数据生成全部文书，检查能否正常使用
check: setup
	$(PY) -m pipeline check

sample: setup
	$(PY) examples/make_sample_inbox.py

pdf: setup
	$(PY) -m pipeline pdf --out $(OUT)

test: setup
	$(PY) -m pytest

# 多单位汇总：PACKAGES 中各单位的数据包（export 生成的 ZIP 或解压后的文件夹）→ $(OUT)/汇总/
# 默认使用示例数据包 examples/packages/（第一次运行时自动生成，约需半分钟）
PACKAGES      ?= examples/packages
ROLLUP_CONFIG ?= examples/rollup_config
rollup: setup
	@if [ "$(PACKAGES)" = "examples/packages" ] && [ ! -d examples/packages ]; then $(PY) examples/make_sample_packages.py; fi
	$(PY) -m pipeline rollup --packages $(PACKAGES) --out $(OUT)/汇总 --config $(ROLLUP_CONFIG)

sample-packages: setup
	$(PY) examples/make_sample_packages.py

bench-rollup: setup
	$(PY) bench/rollup.py

bench: setup
	$(PY) bench/run.py

# 只删除可以重新生成的东西（Python 环境、示例演示的输出、性能测试的临时文件）；真实运行的输出一律保留
clean:
	rm -rf $(VENV) $(OUT)/示例 $(BENCH_TMP)

# 重新生成 docs/faq.md 和 docs/commands.md（改了提示表或命令帮助之后）
docs: setup
	$(PY) tools/make_docs.py
