"""Cleaning: page chrome, spam, pinyin readings and mojibake leave the five real
policy pages, and what is left is a verbatim, deletion-only view of the file."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.clean import CHROME_LINES, META_LABELS, SPAM_BRANDS, TAIL_MARKERS, TOC_HEAD, clean
from ingest.pipeline import process_file
from ingest.textnorm import t2s

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
DOCS = sorted(CORPUS.glob("*.txt"))

# Dirt that must never survive cleaning, in the scripts in which the pages carry it.
FORBIDDEN = (
    "365bet", "大鼠标", "辅助浏览", "RAR", "下載本文檔", "下载本文档", "扫一扫", "关闭窗口",
    "當前位置", "当前位置", "溫馨提示", "温馨提示", "0/150", "提交評論", "提交评论", "_第1頁", "_第1页",
)
TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
PINYIN_NOTE = re.compile(rf"[(（][a-zü{TONED}]*[{TONED}][a-zü{TONED}]*[)）]")
PRIVATE_USE = re.compile(r"[\ue000-\uf8ff]")


@pytest.fixture(scope="module")
def parsed():
    return {f.name[:3]: process_file(f) for f in DOCS}


def test_corpus_has_the_five_seed_pages():
    assert [f.name[:3] for f in DOCS] == ["000", "001", "002", "003", "004"]


def test_the_raw_pages_really_are_dirty(parsed):
    """Guard against a vacuous test: the dirt is in the files, it is the cleaning that removes it."""
    raw = "".join(p.document.raw_text for p in parsed.values())
    for needle in ("365bet", "大鼠标", "辅助浏览", "RAR", "下載本文檔", "扫一扫", "关闭窗口", "当前位置",
                   "溫馨提示", "0/150", "提交評論", "_第1頁"):
        assert needle in raw, needle
    assert PINYIN_NOTE.search(raw)
    assert PRIVATE_USE.search(raw)


@pytest.mark.parametrize("doc", DOCS, ids=lambda f: f.name[:3])
def test_cleaned_text_and_chunks_have_no_dirt(doc):
    p = process_file(doc)
    texts = {"document": p.document.text}
    for c in p.chunks:
        texts[f"chunk {c.path} text"] = c.text
        texts[f"chunk {c.path} index_text"] = c.index_text
    for c in p.clauses:
        texts[f"clause {c.path}"] = c.text
    assert p.chunks, "every seed yields chunks"
    for where, text in texts.items():
        for needle in FORBIDDEN:
            assert needle not in text, f"{needle!r} left in {where}"
        m = PINYIN_NOTE.search(text)
        assert m is None, f"pinyin {m.group()!r} left in {where}"
        m = PRIVATE_USE.search(text)
        assert m is None, f"private-use U+{ord(m.group()):04X} left in {where}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda f: f.name[:3])
def test_offsets_map_every_kept_character_back_to_the_file(doc):
    d = process_file(doc).document
    assert len(d.offsets) == len(d.text)
    assert all(d.raw_text[o] == ch for o, ch in zip(d.offsets, d.text))
    assert all(a < b for a, b in zip(d.offsets, d.offsets[1:])), "offsets strictly increase: deletion only"
    assert d.raw_text == doc.read_text(encoding="utf-8")


def test_spam_line_is_dropped_and_logged(parsed):
    d = parsed["004"].document
    assert "365bet" in d.raw_text and "365bet" not in d.text
    spam = [line for line in d.dropped if line.startswith("injected spam")]
    assert len(spam) == 1 and "365bet" in spam[0]
    # The legitimate neighbours of the spam line stay.
    assert "独山子区教育局局长" in d.text and "克拉玛依区教育局局长" in d.text


def test_chrome_and_metadata_lines_are_logged(parsed):
    d = parsed["001"].document
    assert "site chrome: 大鼠标" in d.dropped
    assert "site chrome: 扫一扫在手机上查看当前页面" in d.dropped
    assert "page metadata: 随政发[2021]9号" in d.dropped
    assert d.text.lstrip().startswith("市人民政府关于深化基础教育改革提升教育教学质量的意见")
    assert "2021年6月25日" in d.text  # the signature date is content, not chrome


def test_document_site_page(parsed):
    d = parsed["003"].document
    assert any(line.startswith("pinyin:") for line in d.dropped)
    assert any(line.startswith("mojibake:") for line in d.dropped)
    assert "site chrome: 溫馨提示" in d.dropped
    # Everything after 溫馨提示 is the hosting site's boilerplate.
    assert "人人文庫網" not in d.text and "OFFICE2007" not in d.text
    assert "中小學教育質量提升行動方案引言" in d.text
    assert "一、課程教學優化工程" in d.text and "四、宣傳引導:營造良好氛圍" in d.text
    assert "AI助教" in d.text


def test_pinyin_reading_is_removed_from_its_host_character():
    c = clean("中小學(xué)教育質(zhì)量")
    assert c.text == "中小學教育質量"
    assert c.offsets == (0, 1, 2, 8, 9, 10, 16)
    assert c.dropped == ("pinyin: 2 annotations",)
    assert clean("學（xué）").text == "學"


@pytest.mark.parametrize("text", [
    "鼓勵教師運用(AI)助教",
    "發揮（名）教師的示范帶動作用",
    "設立(名)教師工作室",
    "普及編程(Python)與機器人教育",
    "各縣(市、區)要參照市的做法",
    "(2019年6月23日)",
])
def test_ordinary_brackets_are_kept(text):
    c = clean(text, t2s)
    assert c.text == text
    assert c.dropped == ()


def test_traditional_chrome_matches_simplified_patterns():
    raw = "下載本文檔\n當前位置:首頁>>正文\n一、總體目標\n提高質量。\n"
    c = clean(raw, t2s)
    assert c.text == "一、總體目標\n提高質量。\n"
    assert "site chrome: 下載本文檔" in c.dropped


def test_metadata_label_drops_its_value_line_only():
    raw = "发文字号\n随政发[2021]9号\n一、总体要求\n"
    c = clean(raw, t2s)
    assert c.text == "一、总体要求\n"


def test_tail_marker_drops_everything_after_it():
    raw = "一、总体要求\n坚持立德树人。\n温馨提示\n本站所有资源\n评论\n"
    assert clean(raw, t2s).text == "一、总体要求\n坚持立德树人。\n"


# ---- properties ------------------------------------------------------------

def _forbidden_chars() -> set[str]:
    """Characters that could spell chrome, a metadata label, a tail marker or spam."""
    words = set(CHROME_LINES) | set(META_LABELS) | set(TAIL_MARKERS)
    words |= {"当前位置", "第页", "已阅读", "版权说明", "抄送", "办公室印发"}
    words |= set(TOC_HEAD)
    return set("".join(words)) | set(SPAM_BRANDS.pattern)


_CLEAN_HAN = sorted(
    {ch for ch in (CORPUS / "002_567f64c4eced1a2f.txt").read_text(encoding="utf-8") if "\u4e00" <= ch <= "\u9fff"}
    | {ch for ch in (CORPUS / "000_824e62257c2156a1.txt").read_text(encoding="utf-8") if "\u4e00" <= ch <= "\u9fff"}
)
_forbid = _forbidden_chars()
HAN_ALPHABET = [ch for ch in _CLEAN_HAN if ch not in _forbid and t2s(ch) not in _forbid]
PROSE = st.text(st.sampled_from(HAN_ALPHABET + list("。，、") + ["\n"]), max_size=300)
ANY_TEXT = st.text(max_size=200) | st.text(
    st.sampled_from(list("學習(xué)（）()?？!^\ue000\ue01c\ufffd一二三、。，,abcāǎ\n \u00a0\u3000温馨提示下載本文檔评论365bet第頁_")),
    max_size=120,
)
PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_alphabet_is_large_enough():
    assert len(HAN_ALPHABET) > 500


@PROPS
@given(ANY_TEXT)
def test_clean_never_crashes_and_only_deletes(raw):
    c = clean(raw, t2s)
    assert len(c.offsets) == len(c.text)
    assert all(a < b for a, b in zip(c.offsets, c.offsets[1:]))
    assert all(0 <= o < len(raw) and raw[o] == ch for o, ch in zip(c.offsets, c.text))
    assert not PRIVATE_USE.search(c.text)


@PROPS
@given(PROSE)
def test_clean_prose_passes_through_unchanged(raw):
    c = clean(raw, t2s)
    assert c.text == raw
    assert c.offsets == tuple(range(len(raw)))
    assert c.dropped == ()


@PROPS
@given(PROSE, st.sampled_from(["(AI)", "（名）", "(一)", "（2019年6月23日）", "(國辦發〔2019〕29號)"]))
def test_clean_prose_with_ordinary_brackets_is_unchanged(prose, bracket):
    raw = prose[: len(prose) // 2] + bracket + prose[len(prose) // 2 :]
    assert clean(raw, t2s).text == raw


@PROPS
@given(PROSE, st.sampled_from(["(xué)", "(zhì)", "（yǎng）", "(wù)"]))
def test_pinyin_inserted_into_prose_is_exactly_removed(prose, note):
    raw = prose[: len(prose) // 2] + note + prose[len(prose) // 2 :]
    assert clean(raw, t2s).text == prose
