"""Rules as data: every shipped rule is bound to a real clause with a verbatim quote."""
from __future__ import annotations

import pytest

from assistant.rules import Rule, check_rules, default_rules, load_rules
from ingest.textnorm import t2s

QINGYUAN = "000_824e62257c2156a1"


def test_shipped_rules_bind_to_the_ingested_corpus(store):
    assert check_rules(store) == []


@pytest.mark.parametrize("tool,key,doc_id,clause", [
    ("research_quota", "中学一级以下", QINGYUAN, "三(二)4"),
    ("research_quota", "中学一级", QINGYUAN, "三(二)4"),
    ("research_quota", "中学高级", QINGYUAN, "三(二)4"),
    ("observation_quota", "学校领导", QINGYUAN, "三(一)1"),
    ("observation_quota", "分管教学教研工作的处室干部", QINGYUAN, "三(一)1"),
    ("budget_floors", "教师培训费", QINGYUAN, "四(三)"),
    ("budget_floors", "仪器设备、教学办公用品、图书资料购置", QINGYUAN, "四(三)"),
    ("budget_floors", "教学业务费", QINGYUAN, "四(三)"),
    ("budget_floors", "教师继续培训经费（财政）", "001_4ea7f4e0e4771614", "六(二)"),
    ("budget_floors", "教师培训经费（学校）", "001_4ea7f4e0e4771614", "六(二)"),
    ("research_staff", "教研员", QINGYUAN, "三(五)1"),
    ("studio_required", "教师工作室", QINGYUAN, "三(二)6"),
    ("experimental_school_priority", "名校长名师培养对象遴选", "002_567f64c4eced1a2f", "四(三)"),
    ("meeting_frequency", "家长会", QINGYUAN, "三(一)2"),
    ("meeting_frequency", "学生座谈会", QINGYUAN, "三(一)2"),
    ("meeting_frequency", "科任教师联席会", QINGYUAN, "三(一)2"),
    ("staffing_review_year", "编制总量核定", "001_4ea7f4e0e4771614", "四(二)"),
    ("expert_count", "指导专家", "002_567f64c4eced1a2f", "三(五)"),
    ("mentor_count", "名校长和名师", "002_567f64c4eced1a2f", "三(一)"),
])
def test_required_rule_exists_and_quote_is_in_its_clause(store, tool, key, doc_id, clause):
    rule = next(r for r in default_rules() if (r.tool, r.key) == (tool, key))
    assert (rule.doc_id, rule.clause) == (doc_id, clause)
    assert rule.region == store.docs[doc_id].meta.region
    assert rule.quote in store.clause(doc_id, clause).text


def test_qingyuan_quotes_keep_the_traditional_script():
    quotes = [r.quote for r in default_rules() if r.doc_id == QINGYUAN]
    assert "學校領導每人每學期校內聽課不少于30節" in quotes
    assert all(q != t2s(q) for q in quotes if any(ch in q for ch in "學經節課教")), quotes


@pytest.mark.parametrize("bad,expected", [
    ({"quote": "學校領導每人每學期校內聽課不少于40節", "values": {"per_semester": 40}}, "quote not found"),
    ({"quote": "学校领导每人每学期校内听课不少于30节"}, "quote not found"),  # simplified ≠ original script
    ({"clause": "三(一)9"}, "clause 三(一)9 not found"),
    ({"doc_id": "999_missing"}, "not in the index"),
    ({"region": "随州市"}, "region 随州市"),
])
def test_a_broken_binding_is_reported(store, bad, expected):
    good = next(r for r in default_rules() if r.id == "observation.leader")
    broken = Rule(**{**good.model_dump(), **bad})
    problems = check_rules(store, [good, broken])
    assert len(problems) == 1 and expected in problems[0] and problems[0].startswith("observation.leader")


def _write(tmp_path, body: str):
    (tmp_path / "x.yaml").write_text(
        "doc_id: 000_824e62257c2156a1\nregion: 清远市\nrules:\n" + body, encoding="utf-8")
    return tmp_path


RULE = ("  - id: {id}\n    tool: {tool}\n    key: k{id}\n    clause: 三(一)1\n    quote: {quote}\n"
        "    label: x\n    values: {{per_semester: {n}}}\n")


@pytest.mark.parametrize("body,message", [
    (RULE.format(id="a", tool="observation_quota", quote="學校領導每人每學期校內聽課不少于30節", n=35), "not written in its quote"),
    (RULE.format(id="a", tool="no_such_tool", quote="學校領導每人每學期校內聽課不少于30節", n=30), "unknown tool"),
    (RULE.format(id="a", tool="observation_quota", quote="學校領導每人每學期校內聽課不少于30節", n=30) * 2, "duplicate rule ids"),
    ("  - not a mapping\n", "not a mapping"),
])
def test_loading_rejects_malformed_rules(tmp_path, body, message):
    with pytest.raises(ValueError, match=message):
        load_rules(_write(tmp_path, body))


def test_a_valid_rule_file_loads(tmp_path):
    rules = load_rules(_write(tmp_path, RULE.format(
        id="a", tool="observation_quota", quote="學校領導每人每學期校內聽課不少于30節", n=30)))
    assert [(r.id, r.doc_id, r.region, r.value("per_semester")) for r in rules] == [
        ("a", "000_824e62257c2156a1", "清远市", 30)]


def test_every_shipped_rule_is_also_found_by_the_extractor(store):
    """The YAML rules only pin what extraction already reads from the clause (same clause, same numbers)."""
    import re

    from assistant.obligations import extract_obligations

    found: dict[tuple[str, str], set[float]] = {}
    for o in extract_obligations(store):
        period = re.findall(r"\d+(?:\.\d+)?", o.period or "")  # 每5年 → 5
        found.setdefault((o.doc_id, o.clause), set()).update(
            {o.number} | ({o.value_max} if o.value_max is not None else set()) | {float(p) for p in period})
    for r in default_rules():
        values = {v for k, v in r.values.items() if k != "deadline_year"}
        missing = values - found.get((r.doc_id, r.clause), set())
        assert not missing, (r.id, missing)
