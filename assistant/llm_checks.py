"""The checks a model's answer passes before it reaches the user: every sentence cites a clause a
tool returned, every number is traceable to a quote, a document's title/文号/date or a calculator."""
from __future__ import annotations

import json
import re
import warnings

from ingest.textnorm import t2s
from ingest.types import Answer, Citation, ToolCall
from ingest.validate import has_instruction, without_instructions

from . import compose

MODE_RETRIEVAL, MODE_LLM, MODE_FALLBACK = "retrieval", "llm", "llm-fallback"
CITE = re.compile(r"\[#([0-9a-f]{16})\]")
_ANY_MARK = re.compile(r"[\[【]#?\s*([0-9A-Za-z_\-]{1,40})\s*[\]】]")
_TERMINATORS = "。！？!?；;"


class _Fallback(Exception):
    """The model's answer cannot be shown; `note` says why."""

    def __init__(self, note: str):
        super().__init__(note)
        self.note = note


class AnswerChecks:
    """What reaches the user from a model, checked sentence by sentence (a base of LLMAssistant,
    which supplies `self.store`):

    - every sentence must cite (``[#clause_id]``) a clause that a tool returned in this
      very conversation and that shares key terms with it; other citations are removed,
      and a sentence left without a valid citation is dropped;
    - every number in a kept sentence (Chinese numerals normalised with cn2an) must
      appear in the quote shown for one of its citations, in the cited document's
      title/文号/date, or in a calculator's result; otherwise the whole answer falls back;
    - instruction-like spans in retrieved clauses (忽略以上所有指令…) never count as support.
    """

    def _finish(self, text: str, seen: dict[str, Citation], shown: dict[str, str], calls: list[ToolCall],
                script: str) -> Answer:
        """Keep only sentences supported by a clause a tool returned; renumber citations [1], [2] …"""
        calc_numbers: set[str] = set()
        for call in calls:
            if call.name != "search_policy" and isinstance(call.result, dict) and not call.result.get("error"):
                calc_numbers |= numbers(_result_text(call.result))
        kept: list[tuple[str, list[str], str]] = []  # (sentence text without markers, clause ids, terminator)
        dropped = 0
        injected: list[str] = []  # clauses with instruction-like text that a dropped sentence relied on
        for body, cids, end in _sentences(text):
            plain = body.strip()
            if not _CONTENT.search(plain):
                continue  # punctuation, list bullets, markdown: not a statement
            valid = [c for c in dict.fromkeys(cids) if c in seen and _shares_terms(plain, self._support_text(c, shown))]
            if not valid:
                dropped += 1
                injected += [seen[c].clause for c in cids if c in seen and c not in valid
                             and has_instruction(self.store.clauses[c].own_text)]
                continue
            kept.append((plain, valid, end))
        warn = (f"大模型的回答依据的是文件中疑似指令的文字（第{'、'.join(dict.fromkeys(injected))}条），"
                "那不是政策规定") if injected else ""
        if not kept:
            raise _Fallback((warn + "，" if warn else "大模型的回答没有可核实的出处，") + "已改用检索模式回答")

        # The quote shown for each cited clause: the sentence of the clause that carries the numbers used.
        need: dict[str, set[str]] = {}
        for plain, valid, _ in kept:
            own = self._claimed_numbers(plain, valid) - calc_numbers
            for c in valid:
                need.setdefault(c, set()).update(own)
        quotes = {c: self._quote(c, need.get(c, set()), " ".join(p for p, v, _ in kept if c in v), seen[c])
                  for c in need}
        for plain, valid, _ in kept:
            support = set(calc_numbers)
            for c in valid:
                support |= numbers(without_instructions(quotes[c].quote)) | self._meta_numbers(seen[c])
            missing = self._claimed_numbers(plain, valid) - support
            if missing:
                raise _Fallback(f"大模型的回答含有所引条款中没有的数字（{'、'.join(sorted(missing))}），已改用检索模式回答")

        order: list[str] = []
        out = []
        for plain, valid, end in kept:
            for c in valid:
                if c not in order:
                    order.append(c)
            marks = "".join(f"[{order.index(c) + 1}]" for c in valid)
            out.append(f"{plain}{marks}{end}")
        answer = "".join(out).strip()
        note = "由大模型根据检索到的条款撰写，每句均有出处"
        if dropped:
            note += f"；已删除 {dropped} 句没有可核实出处的内容"
        if warn:
            note += f"（{warn}）"
        return Answer(answer, True, tuple(quotes[c] for c in order), tuple(calls), script, note=note,
                         mode=MODE_LLM)

    def _support_text(self, cid: str, shown: dict[str, str]) -> str:
        clause = self.store.clauses.get(cid)
        return shown.get(cid) or without_instructions(clause.text if clause else "")

    def _claimed_numbers(self, sentence: str, cids: list[str]) -> set[str]:
        """Numbers the sentence states, minus references to the cited clauses themselves (第三(一)1条)."""
        s = sentence
        for c in cids:
            clause = self.store.clauses.get(c)
            if clause is not None:
                for form in (clause.path, clause.path.replace("(", "（").replace(")", "）")):
                    s = s.replace(f"第{form}条", " ").replace(form, " ")
        s = _CLAUSE_REF.sub(" ", s)
        for name in sorted(self._place_names(), key=len, reverse=True):  # 三亚市, 十堰市: names, not numbers
            s = s.replace(name, " ")
        return numbers(s)

    def _place_names(self) -> set[str]:
        names = set()
        for d in self.store.docs.values():
            region = d.meta.region or ""
            names.add(region)
            if len(region) > 2 and region[-1] in "市县区省州盟旗":
                names.add(region[:-1])
        names.discard("")
        return names

    def _meta_numbers(self, cite: Citation) -> set[str]:
        d = self.store.docs.get(cite.doc_id)
        meta = d.meta if d else None
        parts = [cite.title] + ([meta.doc_number or "", meta.date or ""] if meta else [])
        return numbers(" ".join(parts))

    def _quote(self, cid: str, need: set[str], claims: str, default: Citation) -> Citation:
        """A verbatim sentence of the clause that contains the `need`ed numbers (else the tool's quote)."""
        clause = self.store.clauses.get(cid)
        if clause is None:
            return default
        cands = [s for s in compose.sentences(clause.text) if s and not has_instruction(s)]
        if not cands:
            return default
        claim_terms = _bigrams(claims)

        def score(s: str):
            return (len(need & numbers(s)), len(claim_terms & _bigrams(s)), s == default.quote)

        best = max(cands, key=score)
        if need and not need <= numbers(best):
            whole = clause.own_text.strip() or clause.text.strip()
            if need <= numbers(whole) and not has_instruction(whole) and len(whole) <= 400:
                best = whole
        if not need and score(best)[1] <= len(claim_terms & _bigrams(default.quote)) \
                and not has_instruction(default.quote):
            best = default.quote
        try:
            return self.store.citation(clause, best)
        except ValueError:
            return default


# ---- text checks ------------------------------------------------------------------

_CONTENT = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
_CJK = re.compile(r"[\u4e00-\u9fff]+")
_CLAUSE_REF = re.compile(r"第?[一二三四五六七八九十]+[(（][一二三四五六七八九十]+[)）][0-9]*(\([0-9]+\)|（[0-9]+）)?条?"
                         r"|第[一二三四五六七八九十百零〇0-9]+(?:条|款|章)")
_BULLET = re.compile(r"^\s*(?:[0-9]+[.、)）]|[（(][0-9一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+、|[-*•·]+)\s*")
_NUM = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_CN_DIGITS = "〇○零一二两三四五六七八九十百千万亿"
_CN_RUN = re.compile(rf"[{_CN_DIGITS}]+")
_PER_MILLE = re.compile(rf"千分之([{_CN_DIGITS}点]+)")
_STOP = {"的是", "规定", "要求", "应当", "根据", "文件", "条款", "其中", "以及", "可以", "进行", "没有", "相关"}


def numbers(text: str) -> set[str]:
    """The numbers stated in `text`, Chinese numerals included (三十 → 30, 百分之五 → 5, 两 → 2).

    A run of only 一 (一律, 统一一级, 进一步, 一级教师) is not read as a number: cn2an turns those into 1,
    so the number 1 written in Chinese is not checked; an Arabic 1 is.
    """
    import cn2an

    t = t2s(text or "")
    t = t.translate(str.maketrans("０１２３４５６７８９．", "0123456789."))
    t = t.replace("○", "〇")
    t = _CN_RUN.sub(lambda m: "乙" * len(m.group()) if set(m.group()) == {"一"} else m.group(), t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = _PER_MILLE.sub(lambda m: _cn(m.group(1)) + "‰", t)
        try:
            t = cn2an.transform(t, "cn2an")
        except Exception:  # cn2an rejects some mixtures; the Arabic numbers are still read
            pass
    return {_canonical(m) for m in _NUM.findall(t)}


def _cn(s: str) -> str:
    import cn2an

    try:
        return str(cn2an.cn2an(s, "smart"))
    except Exception:
        return s


def _canonical(n: str) -> str:
    if "." in n:
        n = n.rstrip("0").rstrip(".")
    return n.lstrip("0") or "0"


def _bigrams(text: str) -> set[str]:
    out = set()
    for run in _CJK.findall(t2s(CITE.sub("", text or ""))):
        out.update(run[i:i + 2] for i in range(len(run) - 1))
    return out - _STOP


def _shares_terms(sentence: str, clause_text: str) -> bool:
    """A cited clause must share key terms with the sentence citing it (two character bigrams,
    or every bigram of a very short sentence)."""
    mine = _bigrams(sentence)
    if not mine:
        return False
    return len(mine & _bigrams(clause_text)) >= min(2, len(mine))


def _sentences(text: str) -> list[tuple[str, list[str], str]]:
    """Split a model answer into (sentence without markers, cited ids, terminator).

    Markers after the terminator ("…30节。[#id]") belong to the sentence before them;
    invented marker styles ([1], 【#x】) are removed.
    """
    text = re.sub(r"【#\s*([0-9a-fA-F]{16})\s*】|\[#\s*([0-9a-fA-F]{16})\s*\]",
                  lambda m: f"[#{(m.group(1) or m.group(2)).lower()}]", text or "")
    text = re.sub(rf"([{_TERMINATORS}]+)((?:\s*\[#[0-9a-f]{{16}}\])+)", r"\2\1", text)
    out = []
    for m in re.finditer(rf"[^{_TERMINATORS}\n]*(?:[{_TERMINATORS}]+|\n|$)", text):
        piece = m.group()
        if not piece.strip():
            continue
        end = ""
        while piece and (piece[-1] in _TERMINATORS or piece[-1] == "\n"):
            end = piece[-1] + end
            piece = piece[:-1]
        cids = CITE.findall(piece)
        body = _ANY_MARK.sub("", CITE.sub("", piece))
        body = _BULLET.sub("", body).replace("**", "")
        out.append((body, cids, end.strip() or ("\n" if "\n" in end else "")))
    return out


def _result_text(result: dict) -> str:
    """A calculator result as text, without ids (a doc id's digits are not a stated number)."""
    def strip(v):
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if k not in ("doc_id", "clause_id", "chunk_id")}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v

    return json.dumps(strip(result), ensure_ascii=False, default=str)
