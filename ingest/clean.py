"""Remove web-page dirt from a policy page while keeping a map back to the raw text.

Cleaning only ever *deletes* characters of the raw text, so every cleaned span is
the original wording (original script, original punctuation) and `offsets`
maps each kept character back to its position in the file. Normalisation for
search (NBSP, full-width forms, traditional → simplified) happens later, on a
copy used only for indexing (`ingest.textnorm`).
"""
from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

# Site chrome compared after t2s + whitespace removal, so 下載本文檔 and 下载本文档 both match.
CHROME_LINES = frozenset(
    """
    拼音 辅助浏览 轻松阅读 读屏 视图 放大 缩小 配色 白底黑字蓝链接 蓝底黄字白链接 黄底黑字蓝链接
    黑底黄字白链接 页面原始配色 大鼠标 辅助线 显示屏 声音 指读 连读 减速 加速 音量 增加音量 减小音量
    后退 前进 全屏 刷新 退出 帮助 换肤 扫一扫在手机上查看当前页面 关闭窗口 设为首页|加入收藏 最新消息:
    下载本文档 文档简介 评论 0/150 提交评论 打印本页 关闭本页 返回顶部 分享到
    """.split()
)
# Page metadata labels (the value sits on the next line); the sidecar keeps these facts.
META_LABELS = frozenset("索引号 主题分类 发布日期 发文字号 效力状态 编辑 审核 发布机构 来源 浏览次数".split())
CHROME_PATTERNS = (
    re.compile(r"^当前位置[:：]"),
    re.compile(r"_第\d+页$"),
    re.compile(r"^已阅读\d+页"),
    re.compile(r"^版权说明[:：]"),
    re.compile(r"^\d{4}-\d{2}-\d{2}\s*\d{2}:\d{2}$"),  # page timestamp
    re.compile(r"^\S{2,20}办公室\s*\d{6,8}日?印发$"),
    re.compile(r"^[—\-－]\s*\d{1,4}\s*[—\-－]$"),  # page footer "— 3 —"
    re.compile(r"^<!--.*-->$"),  # Markdown/HTML comment such as <!-- INFO END -->
    # A page's own buttons and its links to the neighbouring articles, under the text of a school site's notice.
    re.compile(r"^[【\[]?(打印正文|打印本页|打印此页|打印文章|关闭窗口|返回顶部|返回列表)[】\]]?$"),
    re.compile(r"^(上一篇|下一篇|上一条|下一条)[:：]"),
)
# A byline of page fields on one line: "文章来源： 作者： 发布时间：2026年07月08日 点击数： 次". Every part
# is a field label and its (short) value, so the line says nothing the document itself says.
BYLINE_LABEL = r"(?:文章来源|信息来源|来源|作者|发布者|发布人|发布时间|发布日期|点击数|点击量|浏览次数|阅读次数|编辑|责任编辑)"
BYLINE = re.compile(rf"^(?:{BYLINE_LABEL}[:：][^:：]{{0,24}}?)+$")
TAIL_MARKERS = frozenset({"温馨提示"})  # everything after it is the hosting site's boilerplate
# Brand names of gambling sites are never policy text; plain words such as 赌博 are (a law lists
# "吸毒、赌博等违法犯罪记录"), so they count as spam only on a line that also advertises.
SPAM_BRANDS = re.compile(r"365bet|bet365|\bbet\d|娱乐城|真人荷官|百家乐|网上足球|棋牌游戏|澳门.{0,3}(赌|彩|娱乐)",
                         re.IGNORECASE)
SPAM_WORDS = re.compile(r"博彩|赌场|赌博|彩票|投注|下注")
AD_SIGNALS = re.compile(r"https?://|www\.|\.(com|net|cc|vip)\b|注册|开户|充值|彩金|优惠|官网|网址|下载|平台|登录",
                        re.IGNORECASE)
POLICY_PROSE = re.compile(r"[，。；]")  # a line of policy prose has clause punctuation; an ad line rarely does


def is_spam(line: str) -> bool:
    if SPAM_BRANDS.search(line):
        return True
    return bool(SPAM_WORDS.search(line) and AD_SIGNALS.search(line) and len(POLICY_PROSE.findall(line)) < 2)


# Table-of-contents entries: "一、现实基础和发展形势……1" — navigation that repeats the real headings.
TOC_LINE = re.compile(r"^.{1,80}?(?:[.…·．]{3,}|…{2,}|-{4,})\s*\d{1,4}$")
TOC_HEAD = frozenset({"目录", "目次"})
MARKDOWN_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+")
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü"
# 學(xué): a pinyin reading in parentheses. A tone mark is required so that ordinary
# bracketed Latin text such as (AI) is never touched; the host character may itself
# be garbled, so nothing is required before the bracket.
PINYIN = re.compile(rf"[(（][a-z{_TONED}]*[{_TONED}][a-z{_TONED}]*[)）]")
# Mojibake left by a broken re-encoding: a '?' followed by private-use code points,
# stray ASCII and orphaned pinyin. The damaged run ends at punctuation or at the
# next intact pinyin annotation (whose host character was itself garbled).
MOJIBAKE = re.compile(
    rf"\?(?=[^，。,；;：:“”\s]{{0,14}}[\ue000-\uf8ff!^a-z{_TONED}])[^，。,；;：:“”\s(（]{{0,14}}"
)
PRIVATE_USE = re.compile(r"[\ue000-\uf8ff\ufffd]")
WS = " \t\u00a0\u3000\u2002\u2003\u2009\ufeff"
_KEPT = re.compile(rb"\x01+")  # a run of kept characters in clean()'s keep mask


class OffsetMap(Sequence[int]):
    """offsets[i] = index in the raw text of cleaned text[i], kept as runs of kept characters.

    Reads like the tuple of ints it replaces (indexing, slicing, iteration, == a tuple), but costs
    16 bytes per run instead of ~36 bytes per character: a 20 MB file's tuple alone was ~250 MB."""

    __slots__ = ("_at", "_raw", "_len")

    def __init__(self, runs: Sequence[tuple[int, int]] = ()):
        self._at = array("q")  # where each run starts in the cleaned text
        self._raw = array("q")  # where it starts in the raw text
        n = 0
        for a, b in runs:
            if b > a:
                self._at.append(n)
                self._raw.append(a)
                n += b - a
        self._len = n

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, i):
        if isinstance(i, slice):
            return tuple(self[j] for j in range(*i.indices(self._len)))
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError("offset index out of range")
        k = bisect_right(self._at, i) - 1
        return self._raw[k] + i - self._at[k]

    def __iter__(self) -> Iterator[int]:
        ends = list(self._at[1:]) + [self._len]
        for at, raw, end in zip(self._at, self._raw, ends):
            yield from range(raw, raw + end - at)

    def runs(self) -> list[tuple[int, int]]:
        """(raw start, raw end) of each kept run."""
        ends = list(self._at[1:]) + [self._len]
        return [(raw, raw + end - at) for at, raw, end in zip(self._at, self._raw, ends)]

    def __eq__(self, other) -> bool:
        if isinstance(other, OffsetMap):
            return self._len == other._len and self.runs() == other.runs()
        if isinstance(other, (tuple, list)):
            return len(other) == self._len and all(a == b for a, b in zip(self, other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))  # equal to the tuple it stands for, so it must hash like it

    def __repr__(self) -> str:
        return f"OffsetMap({self.runs()!r})"


@dataclass(frozen=True)
class Cleaned:
    text: str
    offsets: OffsetMap  # a Sequence[int]: offsets[i] = index in raw of text[i]
    dropped: tuple[str, ...]


def _line_spans(raw: str):
    start = 0
    for line in raw.splitlines(keepends=True):
        yield start, start + len(line), line
        start += len(line)


def clean(raw: str, to_simplified: Callable[[str], str] = lambda s: s) -> Cleaned:
    """Delete chrome lines, spam, pinyin readings and mojibake from `raw`.

    `to_simplified` lets chrome written in traditional script (下載本文檔) match the
    simplified patterns; pass the OpenCC t2s converter.
    """
    keep = bytearray(b"\x01") * len(raw)
    dropped: list[str] = []

    def drop(a: int, b: int, why: str) -> None:
        keep[a:b] = bytes(b - a)
        shown = raw[a:b].strip(WS + "\r\n")
        if shown:
            dropped.append(f"{why}: {shown[:60]}")

    skip_next_value = False
    in_tail = False
    for a, b, line in _line_spans(raw):
        # Compare chrome in its plain form: 版權(quán)說明 must still read as 版权说明.
        plain = PRIVATE_USE.sub("", PINYIN.sub("", MOJIBAKE.sub("", line)))
        bare = "".join(to_simplified(plain).split()).replace("\u00a0", "").replace("\u3000", "")
        if not bare:
            continue
        if in_tail or bare in TAIL_MARKERS:
            in_tail = True
            drop(a, b, "site chrome")
        elif skip_next_value:
            skip_next_value = False
            drop(a, b, "page metadata")
        elif bare in META_LABELS:
            skip_next_value = True
            drop(a, b, "page metadata")
        elif BYLINE.match(bare) and not POLICY_PROSE.search(bare):
            drop(a, b, "page metadata")
        elif bare in CHROME_LINES or any(p.search(bare) for p in CHROME_PATTERNS):
            drop(a, b, "site chrome")
        elif is_spam(line):
            drop(a, b, "injected spam")
        elif bare in TOC_HEAD or TOC_LINE.match(bare):
            drop(a, b, "table of contents")
        else:
            md = MARKDOWN_HEADING.match(line)
            if md:  # "## 第一章 总则": the markup goes, the heading stays
                keep[a : a + md.end()] = bytes(md.end())

    text_so_far = raw  # regex passes run on the raw text, honouring earlier deletions
    for pattern, why in ((MOJIBAKE, "mojibake"), (PINYIN, "pinyin"), (PRIVATE_USE, "mojibake")):
        hits = 0
        for m in pattern.finditer(text_so_far):
            if all(keep[m.start() : m.end()]):
                keep[m.start() : m.end()] = bytes(m.end() - m.start())
                hits += 1
                if why == "mojibake":
                    dropped.append(f"mojibake: {m.group()}")
        if hits and why == "pinyin":
            dropped.append(f"pinyin: {hits} annotations")

    # Runs of kept characters, not one int and one 1-char string per character: at 20 MB those
    # took ~600 MB, now the text is joined from slices and the map holds one pair per run.
    runs = [m.span() for m in _KEPT.finditer(keep)]
    text = "".join(raw[a:b] for a, b in runs)
    return Cleaned(text=text, offsets=OffsetMap(runs), dropped=tuple(dropped))
