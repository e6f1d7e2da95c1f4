"""Which indexed document (and which article) a question names.

People name a document by its full title, by its short name (教师法 for
中华人民共和国教师法, 强校工程 for 成都市公办初中强校工程实施意见) or in 《》.
A name that matches no indexed document is reported as missing, so "义务教育法第五条"
is refused honestly instead of being answered from 教育法 (a substring of it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.clauses import cn_to_int, int_to_cn
from ingest.textnorm import lengths_of, longest_matches, t2s

TITLE_PREFIX = re.compile(r"^中华人民共和国")
QUALIFIER = re.compile(r"[(（][^()（）]{2,12}[)）]$")
ABOUT = re.compile(r"关于(.{2,40}?)的(通知|意见|决定|批复|函|报告|公告|通告)$")
DOC_KIND = re.compile(r"(实施意见|指导意见|实施方案|行动方案|实施办法|实施细则|意见|方案|通知|办法|规划|计划)$")
NAME_END = ("法", "条例", "工程", "计划", "规划", "方案", "办法", "意见", "通知", "纲要", "规定", "细则")
# A law or regulation named in a question: 义务教育法, 《未成年人保护法》, 学校安全条例.
NAMED = re.compile(r"《([^》]{2,40})》|(?:(?<=^)|(?<=[问据照按在的和与及、，,\s想看查]))"
                   r"([\u4e00-\u9fff]{1,12}?(?:法|条例))(?=第|规定|对|中|里|的|有|是|怎|关于|和|与|及|、|，|,|？|\?|。|$)")
NOT_A_NAME = frozenset("方法 办法 做法 说法 看法 想法 依法 合法 违法 非法 执法 守法 立法 司法 用法 写法 算法 国法 规法".split())
NOT_A_NAME_AFTER_DE = tuple("的" + w for w in NOT_A_NAME)
LEAD_WORDS = re.compile(r"^(按照|依照|根据|依据|遵照|参照|对照|关于|那么|请问|按|据|照|依|在|对|从|把|那|问)")
ARTICLE = re.compile(r"第\s*([一二三四五六七八九十百零〇两]{1,8}|\d{1,3})\s*[条條]")
ASKS_ARTICLE = re.compile(r"第几条|哪一条|哪条|哪个条款|哪几条|什么条款|第几款")


@dataclass(frozen=True)
class Named:
    doc_ids: tuple[str, ...] = ()  # indexed documents the question names, in order
    missing: tuple[str, ...] = ()  # names that match no indexed document
    article: str | None = None  # 第二十五条
    asks_article: bool = False


def aliases(title: str, region: str | None = None, parents: tuple[str, ...] = ()) -> set[str]:
    """Names people use for a document with this title."""
    t = QUALIFIER.sub("", t2s(title).strip("《》 "))
    out = {t, TITLE_PREFIX.sub("", t)}
    m = ABOUT.search(t)
    if m:
        out.add(m.group(1))
    for name in list(out):
        for place in (region or "", *parents):
            if place and name.startswith(place) and len(name) - len(place) >= 4:
                out.add(name[len(place):])
    for name in list(out):  # 北京市实施《中华人民共和国教师法》办法 is also typed 北京市实施教师法办法
        out.add(re.sub(r"[《》〈〉]", "", name))
        out.add(re.sub(r"[《》〈〉]", "", name.replace("中华人民共和国", "")))
    for name in list(out):
        core = DOC_KIND.sub("", name)
        if len(core) >= 4 and core.endswith(NAME_END):
            out.add(core)
    return {a for a in out if len(a) >= 3}


class DocNames:
    def __init__(self, docs: dict[str, tuple[str, str | None, tuple[str, ...]]]):
        """`docs`: doc_id → (title, region, parents)."""
        owners: dict[str, set[str]] = {}
        for doc_id, (title, region, parents) in docs.items():
            for a in aliases(title, region, parents):
                owners.setdefault(a, set()).add(doc_id)
        self.alias_docs = owners
        self._alias_lengths = lengths_of(owners)
        self.titles = {doc_id: t2s(title) for doc_id, (title, _, _) in docs.items()}
        self.places = {doc_id: {region, *parents} for doc_id, (_, region, parents) in docs.items()}

    def _partial(self, q: str) -> list[tuple[int, int, tuple[str, ...]]]:
        """A distinctive piece of one title (≥ 4 characters, ending like a name): 强校工程."""
        out = []
        for end_word in NAME_END:
            for m in re.finditer(re.escape(end_word), q):
                for start in range(max(0, m.end() - 12), m.end() - 3):  # longest piece first
                    piece = q[start : m.end()]
                    if piece.startswith("的"):
                        continue
                    placed = self._placed(q[:start], piece) if DOC_KIND.fullmatch(piece) else None
                    if placed is not None:  # "青岛的实施办法": that place's 办法, not the one title with 实施办法 in it
                        if placed:
                            out.append((start, m.end(), placed))
                        break
                    owners = [d for d, t in self.titles.items() if piece in t]
                    if len(owners) == 1:
                        out.append((start, m.end(), (owners[0],)))
                        break
        return out

    def _placed(self, before: str, kind: str) -> tuple[str, ...] | None:
        """A kind of document (实施办法) right after a place (青岛的): that place's one document of that kind
        (or () when it has none or several); None when no place is named right before."""
        from ingest.places import lookup

        before = before.rstrip("的")
        for n in range(min(len(before), 8), 1, -1):
            if lookup(before[-n:]):
                return self._loosely(before[-n:] + kind)
        return None

    def _with_place(self, name: str) -> tuple[str, ...]:
        """山东学校安全条例 = 山东省学校安全条例: a known name with a place (or 中国) before it."""
        from ingest.places import lookup

        for a, owners in self.alias_docs.items():
            if name.endswith(a):
                rest = name[: -len(a)]
                if not rest or rest in ("中国", "国家"):
                    return tuple(sorted(owners))
                place = lookup(rest.rstrip("的"))  # 北京的学前教育条例
                if place:
                    return tuple(sorted(d for d in owners if place.name in self.places[d]))
                if self._told_before(rest, a):  # "她说家庭教育促进法": words of the sentence, then the name
                    return tuple(sorted(owners))
        return self._loosely(name)

    def _placed_before(self, before: str, owners: tuple[str, ...]) -> tuple[str, ...]:
        """Of several documents sharing a name (学前教育条例), the one of the place written right before it
        ("这是浙江学前教育条例"); all of them when no place is, or none of them is of that place."""
        from ingest.places import lookup

        if len(owners) < 2:
            return owners
        before = before.rstrip("的")
        place = next((p for p in (lookup(before[-n:]) for n in range(min(len(before), 8), 1, -1)) if p), None)
        placed = tuple(d for d in owners if place and place.name in self.places[d])
        return placed or owners

    @staticmethod
    def _told_before(rest: str, alias: str) -> bool:
        """`rest` is words of the sentence before the name `alias`, not the start of a longer name: the
        question's segmentation ends a word where the alias starts (她说|家庭教育促进法, but 义务教育|法 is not
        教育法 with 义务 before it) and `rest` does not end like a name's qualifier (实施, 促进)."""
        from ingest.segment import word_ends

        return len(rest) in word_ends(rest + alias) and not rest.endswith(("实施", "促进", "管理", "保护", "教育", "学校", "职业"))

    def _loosely(self, name: str) -> tuple[str, ...]:
        """浙江的家庭教育条例 = 浙江省家庭教育促进条例: the one title (in that place) that, after its place, starts
        and ends as the name does and holds its words in order, words left out (促进) allowed (教育条例 is too
        loose to name it). Several such titles: none, so the question says what is missing."""
        from ingest.places import find_places

        core = name.replace("的", "")
        places = find_places(core)
        if places and core.startswith(places[0].name):
            core = core[len(places[0].name):]
        elif places:
            for short in range(2, len(core)):  # 浙江 is 浙江省 written short
                if find_places(core[:short]):
                    core = core[short:]
                    break
        if len(core) < 4:
            return ()
        rx = re.compile(".*?".join(map(re.escape, core)))
        owners = []
        for d, title in self.titles.items():
            own = QUALIFIER.sub("", TITLE_PREFIX.sub("", title))
            for place in sorted(self.places[d] - {None}, key=len, reverse=True):
                if own.startswith(place):
                    own = own[len(place):]
                    break
            if rx.fullmatch(own) and (not places or places[0].name in self.places[d]):
                owners.append(d)
        return (owners[0],) if len(owners) == 1 else ()

    def resolve(self, question: str) -> Named:
        q = t2s(question)
        spans: list[tuple[int, int, tuple[str, ...]]] = []
        # Aliases are matched with the book-title marks taken out too: 北京市实施《教师法》办法 names the Beijing
        # 办法, whose alias is 北京市实施教师法办法, not the 《教师法》 inside it.
        kept_at = [i for i, ch in enumerate(q) if ch not in "《》〈〉"]
        bare = "".join(q[i] for i in kept_at)
        for start, end, alias in longest_matches(bare, self.alias_docs, self._alias_lengths):
            owners = tuple(sorted(self.alias_docs[alias]))
            spans.append((kept_at[start], kept_at[end - 1] + 1, self._placed_before(bare[:start], owners)))
        spans += self._partial(q)
        for m in NAMED.finditer(q):
            name = (m.group(1) or m.group(2) or "").strip()
            start = m.start(1) if m.group(1) else m.start(2)
            lead = LEAD_WORDS.match(name) if not m.group(1) else None
            if lead:  # "按照教育法…" names 教育法, not a document called 按照教育法
                name, start = name[lead.end():], start + lead.end()
            if len(name) < 3 or name in NOT_A_NAME:
                continue
            if not m.group(1) and name.endswith(NOT_A_NAME_AFTER_DE):
                continue  # "不按常规分数线录取的办法" is a way of doing it, not a document's title
            spans.append((start, start + len(name), self._with_place(name)))
        # The longest name wins where names overlap: 职业教育法 is not 教育法, 义务教育法 is not 教育法.
        spans.sort(key=lambda s: (-(s[1] - s[0]), s[0], not s[2]))
        kept: list[tuple[int, int, tuple[str, ...]]] = []
        for s in spans:
            if not any(s[0] < k[1] and k[0] < s[1] for k in kept):
                kept.append(s)
        kept.sort()
        doc_ids = tuple(dict.fromkeys(d for _, _, ds in kept for d in ds))
        missing = tuple(dict.fromkeys(q[a:b] for a, b, ds in kept if not ds))
        m = ARTICLE.search(q)
        article = None
        if m:
            try:
                article = f"第{int_to_cn(cn_to_int(m.group(1)))}条"
            except (ValueError, KeyError):
                article = None
        return Named(doc_ids, missing, article, bool(ASKS_ARTICLE.search(q)))
