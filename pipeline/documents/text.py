"""The one quoting and punctuation filter every document passes its text through (GB/T 15834-2011).

API
---
``clean(text)``
    For any value a department typed (activity titles, highlights, honour names): removes control
    characters and bidirectional override characters (U+202A–U+202E, U+2066–U+2069, U+200E/F,
    U+061C); turns half-width ``& < >`` and straight quotes inside Chinese text into their Chinese
    forms (a pair ``<第3期>`` around Chinese text is dropped, keeping ``第3期``: what a department
    puts in ASCII angle brackets is a number or a note, never a 书名号 (issue 22); ``&`` between Chinese
    characters → ``和``, lone ``<``/``>`` →
    ``＜``/``＞``, ``"…"`` → ``“…”``, ``'…'`` → ``‘…’``); removes stray ASCII spaces next to
    Chinese characters or Chinese punctuation (``开展 活动`` → ``开展活动``; ``AI 科普`` keeps none
    either, ``Open Day`` keeps its space); nests quotation marks (an inner ``“…”`` becomes ``‘…’``)
    and book-title marks (an inner ``《…》`` becomes ``〈…〉``).
``quote(text)``
    ``clean(text)`` wrapped in ``“…”`` unless it already is; inner double quotes become single.
``book(text)``
    ``clean(text)`` wrapped in ``《…》`` (an existing outer pair is not doubled); inner 《》 become 〈〉.
``strip_marks(text)``
    A title without an enclosing pair of 《》 or “” (what a department often types around it).
``finish(text)``
    For a whole composed paragraph: control/bidi characters out, quotation and book-title marks
    nested correctly at every depth (“…‘…’…”, 《…〈…〉…》). Idempotent.
``join(items, sep="、")``
    Items joined with the Chinese enumeration comma.
``strip_controls(text)``
    Only the control and bidi characters out (nothing else changed): what every Excel writer
    (``documents.workbook``, ``documents.xlsx_stream``) does to each cell, sheet name and page header, so a
    workbook and a Word document hold the same characters.

Every writer (wording.fill, the Word writers) calls these; no call site quotes by hand. ``clean`` and ``finish``
also replace outdated official formulations by their current form (``documents.official``, the table
``config/official_wording.yaml``), so a catalog text or a typed value never prints "以习近平为核心".
"""

from __future__ import annotations

import re

from pipeline.documents import official

__all__ = ["clean", "quote", "book", "strip_marks", "finish", "join", "strip_controls", "CJK"]

#: Chinese characters and Chinese (full-width) punctuation, as a regex character class body.
CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef“”‘’—…·〈〉《》"
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"

#: Characters no output holds: C0 controls but tab, newline and carriage return, DEL and C1 controls, the
#: bidirectional formatting characters (U+200E/F, U+061C, U+202A–U+202E, U+2066–U+2069), the BOM and the
#: two non-characters XML cannot hold. The one definition for Word and Excel alike.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\ufeff"
                      "\ufffe\uffff]")
_EXCEL_ESCAPE = re.compile(r"_x[0-9A-Fa-f]{4}_")  # how openpyxl shows a control character it could not store
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{CJK}])[ \t]+|[ \t]+(?=[{CJK}])")
_ANGLE_PAIR = re.compile(rf"<([^<>]*[{_HAN}][^<>]*)>")
_AMP = re.compile(rf"(?<=[{_HAN}])\s*&\s*(?=[{_HAN}])")
_STRAIGHT_DOUBLE = re.compile(r'"([^"]*)"')
_STRAIGHT_SINGLE = re.compile(rf"(?<![A-Za-z])'([^']*[{_HAN}][^']*)'")

_PAIRS = {"“": ("“", "”", "‘", "’"), "‘": ("“", "”", "‘", "’"),
          "《": ("《", "》", "〈", "〉"), "〈": ("《", "》", "〈", "〉")}


def strip_controls(text: str) -> str:
    """Control and bidi characters removed (also in openpyxl's `_x001B_` spelling); nothing else changed."""
    if "_x" in text:
        text = _EXCEL_ESCAPE.sub(lambda m: "" if _escaped_control(m.group(0)) else m.group(0), text)
    return _CONTROL.sub("", text)


def _escaped_control(escape: str) -> bool:
    code = int(escape[2:6], 16)
    return code < 0x20 or bool(_CONTROL.match(chr(code)))


# what any step of clean() acts on: without one of these (and printable) a text is already clean
_CLEAN_ALREADY = re.compile(r"[\s&<>\"'_“‘《〈”’》〉]")


def clean(value: object) -> str:
    """A typed value made fit to print inside Chinese prose (see the module docstring)."""
    if value is None:
        return ""
    if type(value) is str and value.isprintable() and not _CLEAN_ALREADY.search(value):
        return official.apply(value)  # the common case at city scale (100,000 activity titles): only the
        # official wording to check (one compiled search)
    text = strip_controls(str(value)).replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.strip(" \t\u3000") for line in text.split("\n")).strip("\n")
    text = _ANGLE_PAIR.sub(r"\1", text)
    text = _AMP.sub("和", text)
    if re.search(f"[{_HAN}]", text):
        text = text.replace("&", "＆").replace("<", "＜").replace(">", "＞")
        text = _STRAIGHT_DOUBLE.sub(r"“\1”", text)
        text = _STRAIGHT_SINGLE.sub(r"‘\1’", text)
    text = _SPACE_NEAR_CJK.sub("", text)
    return _nest(official.apply(text))


_MARKS = re.compile("[“‘《〈”’》〉]")


def _nest(text: str) -> str:
    """Quotes and book-title marks alternate with depth: “ ‘ “ …, 《 〈 《 …."""
    if not _MARKS.search(text):  # nothing to nest: the text as it is (most paragraphs of a long report)
        return text
    out, stack = [], []  # stack of (family, depth)
    at = 0
    for m in _MARKS.finditer(text):   # the text between marks is copied as it is
        out.append(text[at:m.start()])
        at = m.end()
        ch = m.group()
        if ch in "“‘《〈":
            family = "q" if ch in "“‘" else "b"
            depth = sum(1 for f in stack if f == family)
            opening = _PAIRS[ch][2 if depth % 2 else 0]
            stack.append(family)
            out.append(opening)
        elif ch in "”’》〉":
            family = "q" if ch in "”’" else "b"
            if family in stack:
                # close the innermost open mark of this family
                idx = len(stack) - 1 - stack[::-1].index(family)
                depth = sum(1 for f in stack[:idx] if f == family)
                del stack[idx]
                pair = _PAIRS["“" if family == "q" else "《"]
                out.append(pair[3] if depth % 2 else pair[1])
            else:
                out.append(ch)
    out.append(text[at:])
    return "".join(out)


def strip_marks(text: object) -> str:
    """Without one enclosing pair of 《》, “” or "" around the whole text."""
    t = clean(text)
    for a, b in (("《", "》"), ("“", "”"), ("〈", "〉"), ("‘", "’")):
        if len(t) >= 2 and t[0] == a and t[-1] == b and t.count(a) == 1:
            return t[1:-1].strip()
    return t


def quote(text: object) -> str:
    """“text”, its inner quotes made single."""
    return _nest(f"“{strip_marks(text)}”")


def book(text: object) -> str:
    """《text》, an inner 《》 made 〈〉."""
    return _nest(f"《{strip_marks(text)}》")


def finish(text: object) -> str:
    """A composed paragraph: control and bidi characters removed, marks nested at every depth."""
    return _nest(official.apply(strip_controls("" if text is None else str(text))))


def join(items, sep: str = "、") -> str:
    return sep.join(str(i) for i in items if str(i))


class NamePrefixes:
    """Names (departments, their aliases, 我部…) to find at the start of a text. A set per length, longest
    first: a lookup costs the number of distinct lengths, not the number of names (a city's roll-up has a
    thousand departments and thousands of rows to look them up in)."""

    def __init__(self, names) -> None:
        self.by_length: dict[int, set[str]] = {}
        for n in names:
            if n:
                self.by_length.setdefault(len(n), set()).add(n)
        self.lengths = sorted(self.by_length, reverse=True)

    def __iter__(self):
        return (n for length in self.lengths for n in sorted(self.by_length[length]))

    def longest(self, text: str, keep: int = 0) -> str:
        """The longest name `text` starts with that leaves at least `keep` characters after it, or ""."""
        for length in self.lengths:
            if len(text) >= length + keep and text[:length] in self.by_length[length]:
                return text[:length]
        return ""
