"""The wording engine, the quoting filter and the layout helpers, each rule on real files."""

import zipfile

import pytest
from docx import Document
from docx.oxml.ns import qn

from pipeline.documents import docx_layout as L
from pipeline.documents.compose import TemplateError, check_template, render_template
from pipeline.documents.text import book, clean, finish, quote
from pipeline.documents.wording import WordingError, load_wording


def _write(tmp_path, text):
    (tmp_path / "wording.yaml").write_text(text, encoding="utf-8")
    return load_wording(tmp_path)


def test_variant_chosen_by_the_shape_of_the_data(tmp_path):
    w = _write(tmp_path, "测试:\n  句子:\n    - 文本: '开展{活动}等活动{次数}次，制定{文件}'\n      条件: [多个]\n"
                         "    - '开展{活动}，制定{文件}'\n    - '开展{活动}'\n")
    facts = {"活动": ["读书会", "讲座"], "次数": 2, "文件": "《方案》", "多个": True}
    assert w.fill("测试.句子", facts) == "开展读书会、讲座等活动2次，制定《方案》"
    assert w.fill("测试.句子", {**facts, "多个": False}) == "开展读书会、讲座，制定《方案》"
    assert w.fill("测试.句子", {**facts, "多个": False, "文件": None}) == "开展读书会、讲座"
    assert w.fill("测试.句子", {"活动": [], "次数": 0, "文件": "", "多个": False}) == ""


def test_unknown_placeholder_names_the_key_and_text(tmp_path):
    w = _write(tmp_path, "测试:\n  句子: '开展活动{活动数量}次'\n")
    with pytest.raises(WordingError) as exc:
        w.fill("测试.句子", {"活动数": 3})
    msg = str(exc.value)
    assert "测试.句子" in msg and "开展活动{活动数量}次" in msg and "{活动数}" in msg and "\n" not in msg


def test_broken_braces_are_reported_on_load(tmp_path):
    with pytest.raises(WordingError) as exc:
        _write(tmp_path, "测试:\n  句子: '开展活动{活动数次'\n")
    assert "测试.句子" in str(exc.value) and "花括号" in str(exc.value)


def test_bad_yaml_is_one_chinese_line(tmp_path):
    with pytest.raises(WordingError) as exc:
        _write(tmp_path, "测试:\n  句子: '开展\n 活动: [\n")
    assert "wording.yaml" in str(exc.value) and "第" in str(exc.value)


@pytest.mark.parametrize("text", [
    "测试:\n  句子: 开展活动\t\n",                 # a tab after a value
    "测试:\n  条件: [\t多个]\n  句子: 开展活动\n",  # a tab inside a flow list
    "测试:\n  句子: 开展活动\n\ufeff\n",           # a byte-order mark past the start
])
def test_what_pyyaml_refuses_is_refused_though_libyaml_would_read_it(tmp_path, text):
    """libyaml reads a few texts PyYAML's own parser refuses (tabs, a BOM past the start): the file is refused
    with the one Chinese line, as it was before the wording was parsed by libyaml."""
    import yaml
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load(text)
    with pytest.raises(WordingError) as exc:
        _write(tmp_path, text)
    assert "wording.yaml" in str(exc.value) and "格式有误" in str(exc.value)


def test_unit_file_overrides_bundled_key_by_key(tmp_path):
    w = _write(tmp_path, "自查报告:\n  问题结尾: '我们一定改正。'\n")
    assert w.text("自查报告.问题结尾") == "我们一定改正。"
    assert w.text("自查报告.附件名") == "测评标准达标情况一览表"  # from the bundled file


def test_missing_key_names_it(tmp_path):
    w = _write(tmp_path, "测试: {}\n")
    with pytest.raises(WordingError, match="测试.没有"):
        w.text("测试.没有")


def test_bundled_wording_parses():
    w = load_wording()
    assert w.has("自查报告.开头") and w.has("实施方案.依据") and w.has("内部提示.标题")


@pytest.mark.parametrize("raw, expected", [
    ("学习&分享会", "学习和分享会"),
    ("<科普法>宣传", "科普法宣传"),  # ASCII angle brackets are never made 书名号 (issue 22)
    ("宣传专栏<第3期>", "宣传专栏第3期"),
    ("开展 “七一” 活动", "开展“七一”活动"),
    ("“学习“两学一做”活动”", "“学习‘两学一做’活动”"),
    ("《关于《科普法》的解读》", "《关于〈科普法〉的解读》"),
    ('"好家风"分享会', "“好家风”分享会"),
    ("a\u202eb\u2066c\x07d", "abcd"),
    ("Open Day", "Open Day"),
])
def test_quoting_filter(raw, expected):
    assert clean(raw) == expected


def test_quote_and_book_nest_inner_marks():
    assert quote("“七一”主题党日") == "“‘七一’主题党日”"
    assert book("《科普法》") == "《科普法》" and book("关于《科普法》的解读") == "《关于〈科普法〉的解读》"
    assert finish("“a“b”c”") == "“a‘b’c”"


def test_title_lines_break_at_words_in_a_trapezoid():
    words = load_wording().items("通用.标题词")
    lines = L.title_lines("天津市科学技术协会2026年创建文明单位工作自查报告", words, keep=["天津市科学技术协会"])
    assert lines == ["天津市科学技术协会2026年", "创建文明单位工作自查报告"]
    lines = L.title_lines("某某县人民政府办公室机关事务服务中心创建文明单位工作实施方案", words,
                          keep=["某某县人民政府办公室机关事务服务中心"])
    assert all(len(x) >= 3 for x in lines) and "".join(lines).endswith("实施方案")
    assert not any(x.endswith("实施方") for x in lines)


def test_template_placeholders_checked_by_paragraph(tmp_path):
    doc = Document()
    doc.add_paragraph("{正文}")
    doc.add_paragraph("一、工作成效{成效")
    path = tmp_path / "t.docx"
    doc.save(path)
    with pytest.raises(TemplateError) as exc:
        check_template(path, ["正文", "成效"])
    assert "t.docx" in str(exc.value) and "一、工作成效{成效" in str(exc.value)


def test_layout_xml_points(tmp_path):
    doc = Document()
    doc.add_paragraph("{正文}")
    path, out = tmp_path / "t.docx", tmp_path / "o.docx"
    doc.save(path)

    def body(w):
        w.para("一、标题", "一级标题")
        w.para("正文“引号”")
        w.table(["部门", "说明"], [["办公室", "x"], ["调宣部", "y"]], [40, 200])
    render_template(path, {"正文": body}, out, title="某报告", author="某单位")
    d = Document(out)
    grid = d.sections[0]._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "linesAndChars" and grid.get(qn("w:linePitch")) == "579" and grid.get(qn("w:charSpace"))
    assert d.core_properties.title == "某报告" and d.core_properties.author == "某单位"
    rfonts = d.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert rfonts.get(qn("w:hint")) == "eastAsia"
    assert d.styles["Normal"].element.rPr.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"
    assert d.styles["一级标题"].paragraph_format.keep_with_next
    t = d.tables[0]
    assert all(r._tr.trPr.find(qn("w:cantSplit")) is not None for r in t.rows)
    assert int(t._tbl.tblPr.find(qn("w:tblW")).get(qn("w:w"))) <= L.Mm(156).twips
    with zipfile.ZipFile(out) as zf:
        assert not any("thumbnail" in n for n in zf.namelist())
        theme = zf.read("word/theme/theme1.xml").decode()
        footer = "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("word/footer"))
    assert 'script="Jpan"' not in theme and '<a:ea typeface="宋体"' in theme
    assert "— " in footer and 'w:eastAsia="宋体"' in footer and "PAGE" in footer


def test_bundled_templates_hold_only_prose_and_shaded_whole_paragraph_placeholders():
    from pipeline.catalog import DEFAULT_CONFIG_DIR
    from pipeline.documents.compose import placeholders
    for name in ("自查报告.docx", "实施方案.docx", "内部提示.docx"):
        doc = Document(DEFAULT_CONFIG_DIR / "templates" / name)
        found = placeholders(doc)
        assert found and all(n is not None for _, _, n in found), name
        for p in doc.paragraphs:
            assert "{%" not in p.text and "{{" not in p.text
            if p.text.startswith("{"):
                assert all(r.style.name == "占位符" for r in p.runs)
        shd = doc.styles["占位符"].element.rPr.find(qn("w:shd"))
        assert shd is not None and shd.get(qn("w:fill"))


def test_clean_shortcut_for_plain_text_changes_nothing_the_full_rules_would():
    """clean() returns plain printable text without spaces, quotes, brackets, & or _ as it is (100,000 activity
    titles at city scale); on any text the result equals running every rule."""
    import re
    import random

    from pipeline.documents import text as T
    alphabet = list("学习活动会议abcXYZ0123 \t\u3000&<>\"'_“‘《〈”’》〉\n\r\x0b\ufffe-—·.,，。（）()") + ["_x000B_", "_x0041_"]
    rng = random.Random(7)
    shortcut = T._CLEAN_ALREADY
    for _ in range(20_000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        fast = T.clean(value)
        T._CLEAN_ALREADY = re.compile(r".", re.S)   # every text takes the full rules
        try:
            assert fast == T.clean(value), value
        finally:
            T._CLEAN_ALREADY = shortcut
    assert T.clean("学习贯彻二十大精神") == "学习贯彻二十大精神"


def test_a_paragraphs_runs_are_what_python_docx_add_run_writes():
    """BlockWriter.para writes a plain line as one w:t itself (python-docx passes text character by character):
    the same XML as add_run gives, spaces at the ends kept; tabs still go through add_run."""
    from lxml import etree

    from pipeline.documents.docx_layout import BlockWriter, child
    doc = Document()
    anchor = doc.add_paragraph("anchor")
    bw = BlockWriter(doc).at(anchor)
    texts = ["普通一行", " 前后空格 ", "两行\n第二行", "制表\t符", "", "\n空行在前"]
    ours = [bw.para(t) for t in texts]
    for t, p in zip(texts, ours):
        ref = anchor.insert_paragraph_before()
        ref._p.style = bw._style("Normal")[0]
        for i, line in enumerate(finish(t).split("\n")):
            if i:
                ref.add_run().add_break()
            if line:
                child(ref.add_run(line)._r.get_or_add_rPr(), "rFonts").set(qn("w:hint"), "eastAsia")
        assert etree.tostring(p._p) == etree.tostring(ref._p), t


def test_nesting_copies_the_text_between_marks_as_the_character_pass_did():
    """text._nest visits only the marks (the text between is copied): the same result as the pass over every
    character, for any mix of opening and closing marks, unbalanced ones included."""
    import random

    from pipeline.documents.text import _PAIRS, _nest

    def by_character(text):
        out, stack = [], []
        for ch in text:
            if ch in "“‘《〈":
                family = "q" if ch in "“‘" else "b"
                depth = sum(1 for f in stack if f == family)
                stack.append(family)
                out.append(_PAIRS[ch][2 if depth % 2 else 0])
            elif ch in "”’》〉":
                family = "q" if ch in "”’" else "b"
                if family in stack:
                    idx = len(stack) - 1 - stack[::-1].index(family)
                    depth = sum(1 for f in stack[:idx] if f == family)
                    del stack[idx]
                    pair = _PAIRS["“" if family == "q" else "《"]
                    out.append(pair[3] if depth % 2 else pair[1])
                else:
                    out.append(ch)
            else:
                out.append(ch)
        return "".join(out)

    rnd = random.Random(9)
    for _ in range(20000):
        text = "".join(rnd.choice("“‘《〈”’》〉文a ") for _ in range(rnd.randint(0, 12)))
        assert _nest(text) == by_character(text), text


def test_a_paragraph_with_the_options_of_an_earlier_one_is_written_the_same():
    """BlockWriter.para copies the paragraph properties of an earlier paragraph with the same options instead of
    setting them one by one: every option (style, keep with next, page break, alignment, indents) gives the
    same XML the second time as the first."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from lxml import etree

    from pipeline.documents.docx_layout import BlockWriter
    doc = Document()
    anchor = doc.add_paragraph("anchor")
    bw = BlockWriter(doc).at(anchor)
    looks = [{}, {"keep_next": True}, {"page_break": True}, {"align": WD_ALIGN_PARAGRAPH.LEFT},
             {"align": WD_ALIGN_PARAGRAPH.CENTER, "keep_next": True}, {"right_indent_chars": 2.5},
             {"left_indent_chars": 1, "first_indent_chars": 2}, {"style": "Title"}]
    for options in looks:
        first, again = bw.para(" 一行\n第二行 ", **options), bw.para(" 一行\n第二行 ", **options)
        assert first._p is not again._p
        assert etree.tostring(first._p) == etree.tostring(again._p), options
        again.paragraph_format.keep_with_next = False   # the copy is its own: the next one is unchanged
        assert etree.tostring(bw.para(" 一行\n第二行 ", **options)._p) == etree.tostring(first._p)
