"""The editor between the ledger and the prose (issue 22): the facts every outward document is written from.

A coordinator does not paste the departments' rows: he counts one event sent by two departments once, files
an "印发…" row as a document, groups "理论中心组集体学习（第1次）…（第3次）" into "理论中心组集体学习3次",
chooses the verb that fits (召开 a meeting, 举办 a lecture or contest, 开展 the rest), names theory study and
party work first, and keeps a 工作亮点 only when it adds something the ledger does not already say.
The 自查报告 and the 说明报告 are written from the same ``Edited`` facts; what was left out goes, with its
reason, to the internal notice (``Edited.left_out``) so the coordinator can rewrite it.

Word lists (verbs, political weight, filler phrases, 印发 words) are in ``config/wording.yaml`` section 编辑.

API
---
``edited(result) -> Edited``   computed once per Result.
``Edited.groups(codes)``       same-kind activities of these standards, ordered by political weight.
``Edited.totals(codes)``       (events, 人次 or None) of these standards, each event once.
``Edited.documents(codes)``    document titles (制度文件 rows and 印发 rows), each once.
``Edited.highlights(codes)``   kept highlight sentences (codes None: those tagged with no standard).
``Edited.left_out``            [LeftOut(department, text, reason)] for the internal notice.
``Edited.until(end)``          the facts dated 1 January to end (the 半年总结).
``listing(groups, limit)``     "召开党组会议研究创建工作2次，开展理论中心组集体学习3次、…等".
``strip_sequence(title)``      a title without its sequence suffix ("（第1次）", "<第3期>", "第3期").
``internal_notes(bw, result, w)`` the internal notice's paragraphs: rates' coverage, highlights left out.
``frame_key(text, phrases)``   a sentence with its varying parts masked, for counting sentence frames.
``FrameBudget``                chooses among sentence variants so that no frame is used more than twice.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

from pipeline.documents.text import NamePrefixes, clean, strip_marks
from pipeline.documents.wording import Wording, load_wording

if TYPE_CHECKING:
    from pipeline.result import Result

_NUM = "0-9０-９一二三四五六七八九十百"
# "（第1次）" "(第2期)" "<第3期>" "【第4场】" "第5期" "第6次" at the end of a title (also "第一期")
_SEQUENCE = re.compile(rf"\s*(?:[（(<＜〈《【\[]\s*第?\s*[{_NUM}]+\s*[次期场批轮届讲课]\s*[)）>＞〉》】\]]"
                       rf"|[-—－·]?\s*第\s*[{_NUM}]+\s*[次期场批轮讲课]|[（(]\s*[0-9]{{1,2}}\s*[)）])\s*$")
_SEQUENCE_ENDS = tuple(")）>＞〉》】]次期场批轮讲课")  # the last character of every _SEQUENCE marker
_SEQUENCE_ANY = re.compile(rf"第\s*[{_NUM}]+\s*[次期场批轮讲课]")
_PUNCT = re.compile(r"[\s\W_]+")
_YEAR = re.compile(r"\d{4}\s*年度?|年度")
_SENTENCE_END = re.compile(r"(?<=[。！？；;!?])|\n")
_FIGURE = re.compile(r"(\d+(?:\.\d+)?)\s*余?\s*(人次|次|场|项|期)")
MAX_FRAME = 2  # a sentence frame is used at most twice in one document
WAYS = ("写法一", "写法二", "写法三", "写法四", "写法五", "写法六")
_FILING = ("简称", "单位", "年度", "名称", "方面", "活动数", "人次", "文件数")
#: the 编辑 entries and the facts their writers offer (checked by `check` even when the sample does not reach them)
DECLARED = {
    **{f"编辑.{k}": () for k in ("理由单次", "理由套话", "理由重复", "理由重复亮点", "指标合并标题", "一览表无记录",
                                 "一览表未报", "内部亮点标题", "内部亮点无")},
    "编辑.理由句式": ("句式",), "编辑.理由数字": ("原数", "台账"), "编辑.理由删句": ("理由", "保留"),
    "编辑.佐证问题": ("标准简称", "多条标准"), "编辑.项目活动": ("列举", "活动数", "人次", "项目", *WAYS),
    "编辑.项目单个活动": ("列举", "人次", *WAYS), "编辑.未报标准": ("标准", *WAYS),
    "编辑.指标达标_大于": ("指标", "实际", "阈值", "较上年", *WAYS),
    "编辑.指标达标_不低于": ("指标", "实际", "阈值", "较上年", *WAYS), "编辑.指标问题原因": WAYS,
    "编辑.覆盖说明": ("部门数",), "编辑.覆盖前缀": ("部门数",), "编辑.覆盖待核实": ("缺少数", "部门数"),
    "编辑.一览表覆盖": ("部门数",), "编辑.负面清单未答": ("项目",),
    "编辑.说明开头": (*_FILING, *WAYS), "编辑.说明数字": (*_FILING, *WAYS), "编辑.说明项目": ("项目", "列举", *WAYS),
    "编辑.说明项目合计": ("活动数", "人次", *WAYS), "编辑.说明文件": ("示例文件", "多个文件", *WAYS),
    "编辑.说明未报": ("标准", *WAYS), "编辑.内部亮点条目": ("序号", "部门", "亮点", "理由"),
    "编辑.内部覆盖": ("指标", "部门数", "缺少部门"),
}
MIN_SUBSTANCE = 6  # Han characters a highlight must add beyond filler phrases and activity names


def strip_sequence(title: str) -> str:
    """The title without a trailing sequence marker: 理论中心组集体学习（第1次） -> 理论中心组集体学习."""
    t = str(title or "").strip()
    while True:
        if not t.endswith(_SEQUENCE_ENDS):  # every marker ends with one of these: no search needed
            return t
        s = _SEQUENCE.sub("", t).strip()
        if s == t or not s:
            return t
        t = s


@functools.lru_cache(maxsize=8192)
def norm_key(text: str) -> str:
    """A name for comparing: no blanks, punctuation or brackets of any width."""
    return _PUNCT.sub("", clean(str(text or "").replace("<", "").replace(">", ""))).lower()


def _doc_key(title: str) -> str:
    return norm_key(_YEAR.sub("", strip_marks(title)))


@dataclass
class Event:
    date: dt.date | None
    title: str            # as printed (cleaned, sequence marker dropped)
    key: str              # the group it belongs to
    codes: set[str]
    participants: int | None
    departments: list[str]


@dataclass
class Group:
    name: str
    verb: str
    weight: tuple[int, int]
    events: list[Event]

    @property
    def count(self) -> int:
        return len(self.events)

    @property
    def participants(self) -> int | None:
        known = [e.participants for e in self.events if e.participants is not None]
        return sum(known) if known else None

    def phrase(self) -> str:
        return f"{self.name}{self.count}次" if self.count > 1 else self.name


@dataclass
class Doc:
    title: str
    date: dt.date | None
    codes: set[str]


@dataclass
class Highlight:
    codes: set[str]
    text: str
    department: str


@dataclass
class LeftOut:
    department: str
    text: str
    reason: str


@dataclass
class Edited:
    events: list[Event]
    docs: list[Doc]
    kept: list[Highlight]
    left_out: list[LeftOut] = field(default_factory=list)
    verbs: dict = field(default_factory=dict)
    weights: list = field(default_factory=list)
    _verb_of: dict = field(default_factory=dict, repr=False)   # title -> verb: groups() asks for each title often

    def _events(self, codes) -> list[Event]:
        """The events tagged with any of the codes, in order (looked up per code: a city's year has 100,000
        events and each item and standard asks)."""
        by_code = self.__dict__.get("_by_code")
        if by_code is None or by_code[0] != len(self.events):
            index: dict[str, list[int]] = {}
            for i, e in enumerate(self.events):
                for c in e.codes:
                    index.setdefault(c, []).append(i)
            by_code = self.__dict__["_by_code"] = (len(self.events), index)
        lists = [by_code[1][c] for c in set(codes) if c in by_code[1]]
        if not lists:
            return []
        positions = lists[0] if len(lists) == 1 else sorted(set().union(*lists))
        return [self.events[i] for i in positions]

    def totals(self, codes) -> tuple[int, int | None]:
        events = self._events(codes)
        known = [e.participants for e in events if e.participants is not None]
        return len(events), (sum(known) if known else None)

    def groups(self, codes) -> list[Group]:
        out: dict[str, Group] = {}
        events = self._events(codes)
        keys = {e.key for e in events}
        first_title: dict[str, str] = {}   # key -> the title of its first event
        for e in events:
            first_title.setdefault(e.key, e.title)
        for e in events:
            key = _kind_key(e.key, keys)
            g = out.get(key)
            if g is None:
                name = first_title[key] if key != e.key else e.title
                verb, shown = self.verbs_for(name), name
                for tail in self.verbs.get("后置动词", ()):  # "宣传栏更新" is written 更新宣传栏
                    if name.endswith(tail) and len(name) > len(tail) + 1:
                        verb, shown = tail, name[:-len(tail)]
                        break
                out[key] = Group(shown, verb, weight_of(name, self.weights), [e])
            else:
                g.events.append(e)
        first = {id(g): i for i, g in enumerate(out.values())}  # chronological within a weight
        return sorted(out.values(), key=lambda g: (g.weight, first[id(g)]))

    def verbs_for(self, title: str) -> str:
        verb = self._verb_of.get(title)
        if verb is None:
            verb = self._verb_of[title] = verb_of(title, self.verbs)
        return verb

    def documents(self, codes) -> list[str]:
        codes = set(codes)
        return [d.title for d in self.docs if d.codes & codes]

    def highlights(self, codes=None) -> list[str]:
        if codes is None:
            return [h.text for h in self.kept if not h.codes]
        codes = set(codes)
        return [h.text for h in self.kept if h.codes & codes]

    def until(self, end: dt.date) -> "Edited":
        """The same facts counting only events and documents dated from 1 January of end's year to end."""
        start = dt.date(end.year, 1, 1)

        def inside(day) -> bool:
            return isinstance(day, dt.date) and start <= day <= end
        return Edited([e for e in self.events if inside(e.date)], [d for d in self.docs if inside(d.date)],
                      self.kept, self.left_out, self.verbs, self.weights)

    def phrases(self) -> list[str]:
        """The varying noun phrases of this year's facts (for frame_key)."""
        names = {e.title for e in self.events} | {strip_marks(d.title) for d in self.docs}
        return sorted((n for n in names if len(n) >= 2), key=len, reverse=True)


# ------------------------------------------------------------------ word lists (config/wording.yaml 编辑)
def _words(w: Wording, key: str) -> list[str]:
    return [str(x) for x in w.items(f"编辑.{key}")] if w.has(f"编辑.{key}") else []


@functools.lru_cache(maxsize=256)
def _holds_any(words: tuple[str, ...]):
    """A test whether a text holds any of the words (one compiled search, not a pass per word); None for none."""
    return re.compile("|".join(re.escape(w) for w in words)).search if words else None


def _holds(t: str, words) -> bool:
    search = _holds_any(tuple(words))
    return search is not None and search(t) is not None


def verb_of(title: str, verbs: dict) -> str:
    """召开 a meeting, 举办 a lecture/报告会/contest, 开展 the rest; "" when the title starts with a verb."""
    t = clean(title)
    if t.startswith(tuple(verbs.get("自带动词", ()))):
        return ""
    if t.endswith(tuple(verbs.get("更新词", ()))):
        return verbs.get("更新", "更新")
    if _holds(t, verbs.get("举行词", ())):
        return verbs.get("举行", "举行")
    if _holds(t, verbs.get("举办词", ())):
        return verbs.get("举办", "举办")
    if "会议" in t or t.endswith("会") or t.endswith(tuple(verbs.get("召开词", ()))):
        return verbs.get("召开", "召开")
    return verbs.get("开展", "开展")


def weight_of(title: str, weights: list[list[str]]) -> tuple[int, int]:
    """(row, position of the first matching word in it): theory study first, then party work, meetings, the rest."""
    t = clean(title)
    for k, words in enumerate(weights):
        if _holds(t, words):   # a row with a word in the title: which of its words comes first in the row
            for j, x in enumerate(words):
                if x in t:
                    return k, j
    return len(weights), 0


def _kind_key(key: str, keys: set[str]) -> str:
    """The group of an event: the shortest other name of this year it ends with ("“七一”主题党日活动" is a
    主题党日活动), when that name is at least 4 characters; else its own."""
    tails = [key[i:] for i in range(1, len(key) - 3) if key[i:] in keys]
    return tails[-1] if tails else key


def listing(groups: list[Group], limit: int | None = None) -> str:
    """Verb-led list of groups: same verbs together, in the groups' order; 等 when some are left out."""
    shown = groups[:limit] if limit else groups
    by_verb: dict[str, list[str]] = {}
    for g in shown:
        by_verb.setdefault(g.verb, []).append(g.phrase())
    text = "，".join(f"{v}{'、'.join(p)}" for v, p in by_verb.items())
    return text + ("等" if len(shown) < len(groups) else "")


# ------------------------------------------------------------------ sentence frames
_QUOTED = re.compile(r"《[^《》]*》|“[^“”]*”|‘[^‘’]*’|〈[^〈〉]*〉")


class Phrases:
    """Phrases to mask in short texts, in their given order (longest first). ``mask`` gives what replacing each
    in turn gives (``for p in phrases: text = text.replace(p, repl)``), but it looks up only the substrings of
    the text, so a sentence costs its length times the number of distinct phrase lengths, not the number of
    phrases: a city-scale year has 100,000 activity titles and a thousand department names."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self.rank: dict[str, int] = {}
        for p in phrases:
            if p and p not in self.rank:
                self.rank[p] = len(self.rank)
        self.order = list(self.rank)
        self.by_length: dict[int, set[str]] = {}
        for p in self.order:
            self.by_length.setdefault(len(p), set()).add(p)
        # given longest first (as every caller does): the phrases from a rank on are no longer than it, and
        # the first length (longest first) holding one of them holds the first of them
        self.longest_first = all(len(a) >= len(b) for a, b in zip(self.order, self.order[1:]))
        self.lengths = sorted(self.by_length, reverse=True)

    def __iter__(self):
        return iter(self.order)

    def __len__(self) -> int:
        return len(self.order)

    def _first_at_or_after(self, text: str, rank: int) -> int | None:
        if self.longest_first:
            if rank >= len(self.order):
                return None
            top, n = len(self.order[rank]), len(text)
            for length in self.lengths:
                if length > top or length > n:
                    continue
                group, found = self.by_length[length], None
                for i in range(n - length + 1):
                    piece = text[i:i + length]
                    if piece in group:
                        r = self.rank[piece]
                        if r >= rank and (found is None or r < found):
                            found = r
                if found is not None:
                    return found
            return None
        best = None
        for length, group in self.by_length.items():
            for i in range(len(text) - length + 1):
                piece = text[i:i + length]
                if piece in group:
                    r = self.rank[piece]
                    if r >= rank and (best is None or r < best):
                        best = r
        return best

    def mask(self, text: str, repl: str) -> str:
        # a replacement can make a later phrase appear ("aabcd" without "abc" is "ad"): look again after each
        rank = 0
        while (found := self._first_at_or_after(text, rank)) is not None:
            text = text.replace(self.order[found], repl)
            rank = found + 1
        return text


def frame_key(text: str, phrases: Iterable[str] | Phrases = ()) -> str:
    """The sentence with its varying parts masked: quoted titles, figures and the given noun phrases become X,
    lists of X become one X. Two sentences with the same key are the same frame."""
    t = _QUOTED.sub("X", clean(text))
    if isinstance(phrases, Phrases):
        t = phrases.mask(t, "X")
    else:
        for p in phrases:
            if p:
                t = t.replace(p, "X")
    t = re.sub(r"\d+(?:\.\d+)?%?", "N", t)
    t = re.sub(r"X(?:[、和及与]X)+", "X", t)
    t = re.sub(r"X+", "X", t)
    return t.strip("。；; ")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text or "") if s and s.strip()]


class FrameBudget:
    """Per document: how often each sentence frame was used; ``choose`` takes the first variant whose
    frames are all still under MAX_FRAME (else the least used one) and records it."""

    def __init__(self, phrases: Iterable[str] = ()):
        self.phrases = Phrases(phrases)
        self.used: Counter[str] = Counter()

    def keys(self, text: str) -> list[str]:
        return [frame_key(s, self.phrases) for s in sentences(text) if len(s) >= 8]

    def fits(self, text: str) -> bool:
        return all(self.used[k] < MAX_FRAME for k in self.keys(text))

    def add(self, text: str) -> str:
        self.used.update(self.keys(text))
        return text

    def choose(self, variants: list[str]) -> str:
        variants = [v for v in variants if v]
        if not variants:
            return ""
        for v in variants:
            if self.fits(v):
                return self.add(v)
        return self.add(min(variants, key=lambda v: max((self.used[k] for k in self.keys(v)), default=0)))


# ------------------------------------------------------------------ building the edited facts
def _int(value) -> int | None:
    try:
        if value is None or value != value:  # NaN
            return None
        n = int(float(value))
        return n if n > 0 else None
    except (TypeError, ValueError):
        return None


def _issued(title: str, words: list[str], kinds: list[str]) -> str | None:
    """The document an "印发…" row names ("印发年度创建工作计划", "印发《…办法》"), or None when the row is an
    event ("制定帮扶方案研讨会" stays an event: it does not end with a document word)."""
    t = title
    if not t.startswith(tuple(words)):  # no 印发 word in front (most rows): no pass over the words
        return None
    for w in words:
        if t.startswith(w) and len(t) > len(w) + 1:
            rest = strip_marks(t[len(w):].lstrip("了：: "))
            if "《" in t or not kinds or rest.endswith(tuple(kinds)):
                return rest
    return None


_NEEDS_CLEAN = re.compile("[^\u4e00-\u9fff0-9A-Za-z（）()、，：·—-]")


@functools.lru_cache(maxsize=8192)
def _title(title) -> str:
    """A typed activity title, cleaned; ASCII angle brackets read as round ones ("<第3期>" is a number).
    (Most titles are plain Chinese and digits: those skip the filter, which the documents apply when printing.)"""
    t = str(title or "").strip().replace("<", "（").replace(">", "）")
    return clean(t) if _NEEDS_CLEAN.search(t) else t


class _DocIndex:
    """The year's documents so far, and which of them a new row is: the first one whose title holds the row's
    title or is held in it, or that has the same date and shares a standard. Candidates come from indexes
    (title keys, their three-character pieces, dates), so a row is not compared with every document: a city's
    units send tens of thousands of documents with titles of their own."""

    def __init__(self, docs: list[Doc]) -> None:
        self.docs = docs
        self.keys: list[str] = []
        self.by_key: dict[str, int] = {}
        self.key_lengths: set[int] = set()
        self.by_piece: dict[str, list[int]] = {}
        self.short: list[int] = []         # keys of one or two characters: held in a title they have no piece of
        self.by_date: dict[dt.date, list[int]] = {}
        self.odd_dates: list[int] = []     # dates no dict can hold (NaN, NaT, unhashable): compared one by one

    def add(self, doc: Doc) -> None:
        i, key = len(self.docs), _doc_key(doc.title)
        self.docs.append(doc)
        self.keys.append(key)
        if key:
            self.by_key.setdefault(key, i)
            self.key_lengths.add(len(key))
            for piece in {key[j:j + 3] for j in range(len(key) - 2)}:
                self.by_piece.setdefault(piece, []).append(i)
            if len(key) < 3:
                self.short.append(i)
        day = _day(doc.date)
        if day is not None:
            self.by_date.setdefault(day, []).append(i)
        elif doc.date is not None:
            self.odd_dates.append(i)

    def first_same(self, key: str, date, codes: set[str]) -> Doc | None:
        found: set[int] = set()
        if key:
            for length in self.key_lengths:   # titles held in this one
                for j in range(len(key) - length + 1):
                    i = self.by_key.get(key[j:j + length])
                    if i is not None:
                        found.add(i)
            if len(key) >= 3:                 # titles holding this one: they have its rarest piece
                rarest: list[int] | None = None
                for j in range(len(key) - 2):
                    holders = self.by_piece.get(key[j:j + 3])
                    if not holders:           # a piece no title has: none holds this one
                        rarest = None
                        break
                    if rarest is None or len(holders) < len(rarest):
                        rarest = holders
                found.update(rarest or ())
            else:
                found.update(i for i, k in enumerate(self.keys) if k and key in k)
        if date is not None:
            day = _day(date)
            found.update(self.by_date.get(day, ()) if day is not None else range(len(self.docs)))
            found.update(self.odd_dates)
        for i in sorted(found):
            d, dk = self.docs[i], self.keys[i]
            if (key and dk and (key in dk or dk in key)) or (date is not None and d.date == date and d.codes & codes):
                return d
        return None


READ_TITLES_KEPT = 8192   # typed titles remembered while the events are built (a city repeats a few hundred)


def _build_events(result: Result, w: Wording) -> tuple[list[Event], list[Doc]]:
    acts = result.merged.used("activities")
    docs_frame = result.merged.used("documents")
    issued_words = sorted(_words(w, "印发词"), key=len, reverse=True)
    kinds = _words(w, "文件词")
    cfg = result.config
    names = NamePrefixes(n for d in cfg.departments for n in (d.name, *d.aliases))
    events: dict[tuple, Event] = {}  # (date, name without its number, the number or None) -> event
    by_day: dict[tuple, list] = {}  # (date, name without its number) -> [(number or None, event)]
    docs: list[Doc] = []

    documents = _DocIndex(docs)

    def add_doc(title: str, date, codes: set[str]) -> None:
        same = documents.first_same(_doc_key(title), date, codes)
        if same is not None:
            same.codes |= codes
            return
        documents.add(Doc(strip_marks(title), date, set(codes)))

    for title, date, codes in zip(docs_frame["title"], docs_frame["date"], docs_frame["standard"]):
        title = clean(title)
        if title:
            add_doc(title, date, set(codes or ()))
    order = in_order(result, "activities") if len(acts) else acts
    read: dict[str, tuple] = {}  # typed title -> how it reads (titles repeat over a city's departments)
    sent_by: dict[int, set[str]] = {}  # id(event) -> its departments, for the membership test
    for title, date, codes, people, dept in zip(order["title"], order["date"], order["standard"],
                                                 order["participants"], order["department"]):
        known = read.get(title) if type(title) is str else None
        if known is None:
            known = _read_title(title, names, issued_words, kinds)
            if type(title) is str:
                if len(read) >= READ_TITLES_KEPT:  # titles all different (each unit its own): memory, not speed
                    read.clear()
                read[title] = known
        raw, doc, shown, key, seq = known
        if not raw:
            continue
        if doc:
            add_doc(doc, date, set(codes or ()))
            continue
        ev = None
        for k, e in by_day.get((date, key), ()):
            if seq is None or k is None or k == seq:
                ev = e
                break
        if ev is None:
            ev = events[(date, key, seq)] = Event(date, shown, key, set(codes or ()), _int(people), [dept])
            by_day.setdefault((date, key), []).append((seq, ev))
            sent_by[id(ev)] = {dept}
        else:  # one event sent by two departments (one may number it, the other not): counted once
            ev.codes.update(codes or ())
            n = _int(people)  # None or above 0: the larger count stands
            if n is not None and (ev.participants is None or n > ev.participants):
                ev.participants = n
            depts = sent_by[id(ev)]
            if dept not in depts:
                depts.add(dept)
                ev.departments.append(dept)
    return list(events.values()), docs


def _read_title(title, names: NamePrefixes, issued_words: list[str], kinds: list[str]) -> tuple:
    """(the title as written outward, the document an 印发 row names, the name without its number, its key,
    the number's key) of a typed activity title."""
    raw = _strip_prefix(_title(title), names, keep=4)  # "团委志愿服务日": no department name outward
    doc = shown = key = seq = None
    if raw:
        doc = _issued(raw, issued_words, kinds)
        if not doc:
            shown = strip_sequence(raw)
            key = norm_key(shown)
            seq = norm_key(raw[len(shown):]) or None  # "第2期": two numbered sessions on one day are two events
    return raw, doc, shown, key, seq


def _day(date):
    """A date as a dict key, or None for no date, NaN or NaT (equal to nothing) or a value that cannot be one."""
    try:
        if date is None or date != date:
            return None
        hash(date)
    except (TypeError, ValueError):
        return None
    return date


def _strip_prefix(text: str, names: NamePrefixes, keep: int = 3) -> str:
    """Without a department name (or 我部…) in front, when at least `keep` characters remain."""
    name = names.longest(text, keep)
    return text[len(name):].lstrip("，,：:、 ") if name else text


def _sentence(text: str) -> str:
    text = text.strip().rstrip("，,;；、")
    return text if not text or text[-1] in "。！？…" else text + "。"


class _Judge:
    """Decides, sentence by sentence, what of a department's 工作亮点 goes into outward documents."""

    def __init__(self, result: Result, w: Wording, events: list[Event], docs: list[Doc]):
        self.w = w
        self.filler = sorted(_words(w, "套话"), key=len, reverse=True)
        self.routine = _words(w, "常态化词")
        self.public = _words(w, "公众词")
        cfg = result.config
        self.names = NamePrefixes([*(n for d in cfg.departments for n in (d.name, *d.aliases)), *_words(w, "自称")])
        titles = {norm_key(e.title) for e in events} | {_doc_key(d.title) for d in docs}
        self.titles = Phrases(sorted((t for t in titles if len(t) >= 2), key=len, reverse=True))
        self.filler_keys = [norm_key(f) for f in self.filler]
        self.name_keys = Phrases(norm_key(n) for n in self.names)
        self.item_of = {s.code: item for ind in cfg.indicators for item in ind.items for s in item.standards}
        self.events = events
        self._lookup = Edited(events, [], [])   # its per-standard lookup of the events
        self._totals: dict[frozenset, tuple[int, int | None]] = {}

    def substance(self, text: str) -> str:
        """What the sentence says beyond filler phrases, activity names and department names."""
        t = norm_key(_SEQUENCE_ANY.sub("", text))
        t = self.name_keys.mask(self.titles.mask(t, ""), "")
        for f in self.filler_keys:
            t = t.replace(f, "")
        return t

    def frame(self, text: str) -> str:
        """The filler skeleton ("扎实推进X，形成常态化机制"), or "" when the sentence uses no filler."""
        t = clean(text)
        marks = [f for f in self.filler if f in t]
        if not marks:
            return ""
        pattern = "(" + "|".join(re.escape(f) for f in self.filler) + ")"
        parts = re.split(pattern, t)
        return "".join(p if p in self.filler or not re.search(r"\w", p) else "X" for p in parts).strip("。")

    def totals(self, codes: set[str]) -> tuple[int, int | None]:
        key = frozenset(codes)
        if key not in self._totals:
            self._totals[key] = self._count(codes)
        return self._totals[key]

    def _count(self, codes: set[str]) -> tuple[int, int | None]:
        if codes:
            item_codes = {s.code for c in codes if c in self.item_of for s in self.item_of[c].standards}
        else:
            item_codes = None
        evs = self.events if item_codes is None else self._lookup._events(item_codes)
        known = [e.participants for e in evs if e.participants is not None]
        return len(evs), (sum(known) if known else None)

    def contradicting(self, clause: str, codes: set[str]) -> str | None:
        """The figure of a clause that exceeds its 测评项目's own total, as a reason; None if it fits."""
        n_events, people = self.totals(codes)
        for m in _FIGURE.finditer(clause):
            n, unit = float(m.group(1)), m.group(2)
            public = any(x in clause for x in self.public)  # 覆盖群众10万人次: not the unit's own participants
            if unit == "人次" and people is not None and n > people and not public:
                return self.w.fill("编辑.理由数字", {"原数": m.group(0), "台账": f"{people}人次"}, required=True)
            if unit != "人次" and "活动" in clause and n > n_events:
                return self.w.fill("编辑.理由数字", {"原数": m.group(0), "台账": f"活动{n_events}次"}, required=True)
        return None


def _edit_highlights(result: Result, w: Wording, events: list[Event], docs: list[Doc]
                     ) -> tuple[list[Highlight], list[LeftOut]]:
    judge = _Judge(result, w, events, docs)
    order = {s.code: k for k, s in enumerate(s for ind in result.config.indicators for item in ind.items
                                             for s in item.standards)}
    frame = result.merged.used("highlights")
    candidates: list[tuple[str, str, set[str], str]] = []  # (department, sentence, codes, skeleton)
    left: list[LeftOut] = []
    for dept, raw, codes in zip(frame["department"], frame["text"], frame["standard"]):
        codes = set(codes or ())
        for line in clean(raw).split("\n"):
            for s in sentences(line):
                s = _strip_prefix(clean(s), judge.names)
                if not norm_key(s):
                    continue
                if judge.routine and any(r in s for r in judge.routine) and _SEQUENCE_ANY.search(s):
                    left.append(LeftOut(dept, s, w.text("编辑.理由单次")))
                    continue
                clauses = [c for c in re.split(r"(?<=[，,])", s) if c.strip()]
                kept_clauses, reasons = [], []
                for c in clauses:
                    why = judge.contradicting(c, codes)
                    (reasons.append(why) if why else kept_clauses.append(c))
                text = _sentence("".join(kept_clauses))
                substance = judge.substance(text)
                has_figure = bool(re.search(r"\d", _SEQUENCE_ANY.sub("", text)))
                if reasons and (len(substance) < MIN_SUBSTANCE and not has_figure):
                    left.append(LeftOut(dept, s, reasons[0]))
                    continue
                if reasons:
                    left.append(LeftOut(dept, s, w.fill("编辑.理由删句", {"理由": reasons[0], "保留": text},
                                                        required=True)))
                if len(substance) < MIN_SUBSTANCE and not has_figure:
                    key = "编辑.理由套话" if judge.frame(text) else "编辑.理由重复"
                    left.append(LeftOut(dept, s, w.text(key)))
                    continue
                candidates.append((dept, text, codes, judge.frame(text)))
    # a filler frame repeated across departments: it adds nothing even with its own noun; a real fact stays
    owners: dict[str, set[str]] = {}
    for dept, _, _, skeleton in candidates:
        if skeleton:
            owners.setdefault(skeleton, set()).add(dept)
    kept: list[Highlight] = []
    seen: set[str] = set()
    used: Counter[str] = Counter()
    for dept, text, codes, skeleton in candidates:
        key = norm_key(text)
        if key in seen:
            left.append(LeftOut(dept, text, w.text("编辑.理由重复亮点")))
            continue
        repeated = skeleton and len(owners.get(skeleton, ())) >= 2
        if repeated and not re.search(r"\d", text):
            left.append(LeftOut(dept, text, w.fill("编辑.理由句式", {"句式": skeleton}, required=True)))
            continue
        fk = frame_key(text) if not skeleton else skeleton
        if used[fk] >= MAX_FRAME:
            left.append(LeftOut(dept, text, w.fill("编辑.理由句式", {"句式": skeleton or fk}, required=True)))
            continue
        used[fk] += 1
        seen.add(key)
        kept.append(Highlight(_first(codes, order), text, dept))
    return kept, left


def _first(codes: set[str], order: dict[str, int]) -> set[str]:
    """A highlight tagged with several standards is printed once: under the first of them in catalog order."""
    return {min(codes, key=lambda c: order.get(c, len(order)))} if codes else set()


def in_order(result: Result, kind: str):
    """The used activities (by date, file and row, undated first) or documents (by file and row) in the order
    every document lists them: sorted once per run (the ledger, the editor and the reports all ask)."""
    frame = result.merged.used(kind)
    cache = result.__dict__.setdefault("_in_order", {})
    key = (kind, id(frame))
    if key not in cache:
        cache[key] = (frame, frame.sort_values(["date", "file", "row"], na_position="first") if kind == "activities"
                      else frame.sort_values(["file", "row"]))  # the frame kept with its id: never reused
    return cache[key][1]



class LedgerRows:
    """The ledger rows of a run's Result (`self.r`) in document order, for the 自查报告 and the 说明报告: sorted
    once per run (in_order) and only when asked; `index` also covers `self.highlights`."""

    r: Result
    highlights: object

    @property
    def acts(self):
        return in_order(self.r, "activities")

    @property
    def docs(self):
        return in_order(self.r, "documents")

    @functools.cached_property
    def index(self) -> dict[str, dict[str, list[int]]]:
        from pipeline.score import standard_index
        return {"a": standard_index(self.acts), "d": standard_index(self.docs), "h": standard_index(self.highlights)}

def edited(result: Result) -> Edited:
    """The edited facts of a run (computed once and kept on the Result)."""
    cached = getattr(result, "_edited", None)
    if cached is not None:
        return cached
    w = load_wording(result.config.dir)
    _title.cache_clear()  # the text filter may depend on the run's year (official wording): a title per run
    events, docs = _build_events(result, w)
    kept, left = _edit_highlights(result, w, events, docs)
    verbs = {**{v: (w.text(f"编辑.动词.{v}") if w.has(f"编辑.动词.{v}") else v)
                for v in ("举办", "召开", "开展", "更新", "举行")},
             "更新词": _words(w, "更新词"), "举行词": _words(w, "举行词"), "后置动词": _words(w, "后置动词"), "举办词": _words(w, "举办词"), "召开词": _words(w, "召开词"), "自带动词": _words(w, "自带动词")}
    weights = [_words(w, f"分量{n}") for n in "一二三四五六" if w.has(f"编辑.分量{n}")]
    ed = Edited(events, docs, kept, left, verbs, weights)
    result._edited = ed  # type: ignore[attr-defined]
    return ed


# ------------------------------------------------------------------ coverage of the roll-call metrics
def coverage(result: Result) -> tuple[list[str], list[str]]:
    """(departments whose roster rows were counted, departments expected but missing): contract §4."""
    from pipeline.score import roster_coverage
    key = (id(result.department_counts), len(result.department_counts))
    cached = result.__dict__.get("_coverage")
    if cached is None or cached[0] != key:  # asked per item and per rate: 1,000 departments each time
        cached = result.__dict__["_coverage"] = (key, roster_coverage(result.config, result.department_counts))
    counted, missing = cached[1]
    return list(counted), list(missing)


def covered_value(result: Result, w: Wording, value: str) -> str:
    """A rate as printed: with "（按已报送人员名单的N个部门统计）" when a roster is missing."""
    counted, missing = coverage(result)
    if not missing or not counted:
        return value
    return value + w.fill("编辑.覆盖说明", {"部门数": str(len(counted))}, required=True)


def coverage_marker_subject(result: Result, w: Wording) -> str:
    """The 【待核实】 subject for rates over a partial roster ("" when every roster arrived)."""
    counted, missing = coverage(result)
    if not missing or not counted:
        return ""
    return w.fill("编辑.覆盖待核实", {"缺少数": str(len(missing)), "部门数": str(len(counted))}, required=True)


# ------------------------------------------------------------------ the internal notice's part
def internal_notes(bw, result: Result, w) -> None:
    """What the editor kept out of the outward documents (issue 22): the roll-call rates' coverage and the
    工作亮点 left out, each with its department and reason, so the coordinator can rewrite them."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    counted, missing = coverage(result)
    if missing and counted:
        labels = [m.metric.label for m in result.metrics.values() if m.value is not None]
        if labels:
            bw.para(w.fill("编辑.内部覆盖", {"指标": labels[:2] + (["等"] if len(labels) > 2 else []),
                                          "部门数": str(len(counted)), "缺少部门": missing}, required=True)
                    .replace("、等", "等"))
    left = edited(result).left_out
    bw.para(w.text("编辑.内部亮点标题") if left else w.text("编辑.内部亮点无"), keep_next=bool(left))
    for k, item in enumerate(left, 1):
        bw.para(w.fill("编辑.内部亮点条目", {"序号": str(k), "部门": item.department, "亮点": item.text,
                                         "理由": item.reason.rstrip("。")}, required=True),
                align=WD_ALIGN_PARAGRAPH.LEFT)
