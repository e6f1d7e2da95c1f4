"""Which extracted rules a question or topic is about, best first (the calculator's and the eligibility
engine's input, assistant.calc): `find_rules(store, topic, regions, unit)` in the asked regions and national
documents (and the regions' provinces); `regions_with` says which other regions have such a rule, so a question
about one city is never answered from another; `sum_rules` picks the amounts a question adds up."""
from __future__ import annotations

import math
import re
from sys import intern

from ingest.textnorm import t2s

from .calc import COUNTABLE, MIN_RELEVANCE, _RANK_RE, is_national
from .obligations import Obligation, extract_obligations

# words that frame a question, not its topic
_FRAME = re.compile(
    r"[\d.]+|[一二两三四五六七八九十百千万半]+(?=个|年|学|名|所|节|项|次|人|位|万|元|班)|多少|几|哪一年|哪年|什么|怎么|如何|"
    r"是否|吗|呢|吧|要不要|需不需要|能不能|可不可以|能否|可否|有没有|至少|最少|不少于|按规定|规定|要求|应该|应当|必须|"
    r"需要|一共|总共|合计|共计|加起来|我们|我是|我校|本校|我|某|一所|一个|有|在|的|了|要|应|须|得|和|与|及|或|、|，|。|？|\?|\s")


def topic_words(text: str) -> str:
    """The topic of a question: without its frame words, and without ranks (who asks is the
    profile's business, see applies())."""
    return _FRAME.sub(" ", _RANK_RE.sub(" ", t2s(text)))


def _grams(s: str, store=None) -> set[str]:
    # Interned: the 15,942 rules' bigram sets at 1,000 laws hold ~1.3M bigrams of ~200k distinct
    # ones; one string object per distinct bigram, not per occurrence (same sets, same order).
    out: set[str] = set()
    for run in re.findall(r"[\u4e00-\u9fff]+", _simplified(store, s)):
        out |= {intern(run[i:i + 2]) for i in range(len(run) - 1)}
    return out


def _text(o: Obligation, store=None) -> str:
    return _simplified(store, o.quote) + " " + _simplified(store, o.who) + " " + _simplified(store, o.item)


def _simplified(store, s: str) -> str:
    """t2s(s), looked up in the table ingest wrote for the rules' strings when the store has one
    (OpenCC on every rule's quote, subject and item took 6.0 s of the first calculator question)."""
    lookup = getattr(store, "simplified", None)
    return lookup(s) if lookup is not None else t2s(s)


def _idf(store) -> dict[str, float]:
    cache = store.__dict__.setdefault("_rule_idf", {})
    if not cache:
        obs = extract_obligations(store)
        postings: dict[str, list[int]] = {}  # bigram -> positions in obs of the rules using it
        for i, o in enumerate(obs):
            for g in _rule_terms(store, o)[0]:
                postings.setdefault(g, []).append(i)
        store.__dict__["_rule_postings"] = (obs, postings)
        cache.update({g: math.log((len(obs) + 1) / (len(ix) + 0.5)) for g, ix in postings.items()})
    return cache


def relevance(o: Obligation, topic: str, idf: dict[str, float]) -> float:
    """How much of the topic's wording (IDF-weighted bigrams) the rule carries, plus a bonus when the
    topic names what the rule counts (its item). A bigram no rule uses weighs as much as an average
    one: a question mostly about something else must not match on one accidental bigram."""
    return _Relevance(topic, idf)(o, _grams(_text(o)), t2s(o.item))


class _Relevance:
    """relevance() for one topic over many rules: the topic's words, bigrams, their total weight and
    the average weight are worked out once, not once per rule (at 1,000 laws find_rules scored 15,942
    rules per call and spent 27-73 s in t2s and _grams, profiled 2026-12-03)."""

    def __init__(self, topic: str, idf: dict[str, float]):
        self.words = topic_words(topic)
        self.want = _grams(self.words)
        self.idf = idf
        if self.want and idf:
            unseen = sum(idf.values()) / len(idf)
            self.total = sum(idf.get(g, unseen) for g in self.want)

    def __call__(self, o: Obligation, have: set[str], item: str) -> float:
        if not self.want or not self.idf:
            return 0.0
        idf = self.idf
        score = sum(idf[g] for g in self.want & have) / self.total
        if len(item) >= 2 and (item in self.words or item[-3:] in self.words):
            score += 0.3
        return score


def _rule_terms(store, o: Obligation) -> tuple[set[str], str]:
    """(bigrams of the rule's quote, subject and item; its item in simplified script), once per rule
    per store. The sets are shared: never mutate them."""
    cache = store.__dict__.setdefault("_rule_terms", {})
    hit = cache.get(id(o))
    if hit is None or hit[0] is not o:  # keyed by identity: the store caches its Obligation objects
        hit = cache[id(o)] = (o, _grams(_text(o, store), store), _simplified(store, o.item))
    return hit[1], hit[2]


def _candidates(store, want: set[str]) -> list[Obligation]:
    """The rules that share a bigram with `want`, in extract_obligations order: a rule sharing none
    scores at most the item bonus (0.3), below MIN_RELEVANCE, so skipping it changes no result."""
    _idf(store)
    obs, postings = store.__dict__.get("_rule_postings") or (extract_obligations(store), {})
    if MIN_RELEVANCE <= 0.3:  # the bonus alone could pass: score every rule
        return obs
    return [obs[i] for i in sorted({i for g in want for i in postings.get(g, ())})]


def in_scope(store, o: Obligation, regions: list[str] | None) -> bool:
    if not regions or is_national(o.region):
        return True
    allowed = set(regions)
    for r in regions:
        allowed |= set(getattr(store, "docs_parents", lambda _r: ())(r))
    return o.region in allowed


def without_places(store, topic: str) -> str:
    """The topic without the places it names: where a rule applies is the region filter's business."""
    topic = t2s(topic)
    for r in sorted(getattr(store, "regions", []), key=len, reverse=True):
        for name in (r, r[:-1] if len(r) > 2 and r[-1] in "省市县区" else r):
            topic = topic.replace(name, " ")
    return topic


def find_rules(store, topic: str, regions: list[str] | None = None, unit: str | None = None,
               units: set[str] | None = None, window: float | None = 0.15) -> list[Obligation]:
    """Rules about `topic` in `regions` (and national documents), best first: those within `window`
    of the best (all that match when None)."""
    topic = without_places(store, topic)
    score = _Relevance(topic, _idf(store))
    scored = []
    for o in _candidates(store, score.want):
        if not in_scope(store, o, regions) or (unit and o.unit != unit) or (units and o.unit not in units):
            continue
        s = score(o, *_rule_terms(store, o))
        if s >= MIN_RELEVANCE:
            scored.append((s, o))
    if not scored:
        return []
    best = max(s for s, _ in scored)
    return [o for s, o in sorted(scored, key=lambda t: -t[0]) if window is None or s >= best - window]


def regions_with(store, topic: str, unit: str | None = None, units: set[str] | None = None) -> list[str]:
    """Regions with a rule on `topic`: each region's best rule within reach of the best anywhere (a
    region whose rule words the topic a little differently still counts; a passing mention does not)."""
    topic = without_places(store, topic)
    score = _Relevance(topic, _idf(store))
    best: dict[str, float] = {}
    for o in find_rules(store, topic, None, unit, units, window=None):
        best[o.region] = max(best.get(o.region, 0.0), score(o, *_rule_terms(store, o)))
    top = max(best.values(), default=0.0)
    return [r for r, s in best.items() if s >= 0.6 * top]


def sum_rules(store, question: str, regions: list[str] | None = None, unit: str | None = None) -> list[Obligation]:
    """The amounts (same unit, two or more) one sentence lists, for the sentence that best matches `question`."""
    groups: dict[tuple, list[Obligation]] = {}
    for o in extract_obligations(store):
        if not in_scope(store, o, regions):
            continue
        if o.number is None or (unit and o.unit != unit) or o.unit not in COUNTABLE or o.value_max is not None or o.per:
            continue  # a per-school or per-person quantity is not an amount to add up
        groups.setdefault((o.doc_id, o.clause, o.quote, o.unit), []).append(o)
    want = _grams(topic_words(question))
    best, score = [], 0.0
    for key, items in groups.items():
        if len(items) < 2:
            continue
        sc = len(want & _grams(key[2])) / max(1, len(want))
        if sc > score:
            best, score = items, sc
    return best if score >= 0.3 else []
