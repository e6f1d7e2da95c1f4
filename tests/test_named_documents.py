"""Which indexed document a question names: a law, a province's 实施《…》办法 of it, a loose short name."""
from __future__ import annotations

from assistant.documents import DocNames

DOCS = {
    "law": ("中华人民共和国职业教育法", "全国", ()),
    "bj": ("北京市实施《中华人民共和国职业教育法》办法", "北京市", ()),
    "hn": ("河南省实施《中华人民共和国职业教育法》办法", "河南省", ()),
    "zj": ("浙江省家庭教育促进条例", "浙江省", ()),
}


def test_the_law_inside_a_provinces_implementing_rules_is_not_what_the_question_names():
    names = DocNames(DOCS)
    assert names.resolve("北京市实施《职业教育法》办法第五条讲的什么？").doc_ids == ("bj",)
    assert names.resolve("北京市实施职业教育法办法第五条").doc_ids == ("bj",)
    assert names.resolve("《职业教育法》第五条讲的什么？").doc_ids == ("law",)
    assert names.resolve("职业教育法第十二条").doc_ids == ("law",)
    both = names.resolve("河南省实施《中华人民共和国职业教育法》办法和职业教育法有什么不同？")
    assert both.doc_ids == ("hn", "law")


def test_a_loose_name_resolves_only_to_the_title_it_abbreviates():
    names = DocNames(DOCS)
    assert names.resolve("按浙江的家庭教育条例，家长要做什么？").doc_ids == ("zj",)
    assert names.resolve("家庭教育条例第八条").doc_ids == ("zj",)
    vague = names.resolve("浙江的教育条例第八条")  # does not start as the title does
    assert not vague.doc_ids and vague.missing == ("浙江的教育条例",)


def test_a_title_holding_a_title_is_framed_with_inner_marks_and_quoted_as_it_is():
    from assistant.compose import frame_fact
    from ingest.types import Citation

    c = Citation("bj", DOCS["bj"][0], "北京市", "第五条", "市和区、县人民政府应当加强对职业教育工作的领导。")
    text = frame_fact([[c]])
    assert text.startswith("北京市《北京市实施〈中华人民共和国职业教育法〉办法》第五条规定：")
    assert c.title == "北京市实施《中华人民共和国职业教育法》办法"  # the citation keeps the document's own title


def test_a_way_of_doing_something_is_not_a_missing_document():
    names = DocNames(DOCS)
    asked = names.resolve("拿过技能大赛的奖，有没有不按常规分数线录取的办法？")
    assert asked.missing == () and asked.doc_ids == ()
    assert names.resolve("义务教育法第五条讲的什么？").missing == ("义务教育法",)  # a law's name still is one
    assert names.resolve("《招生录取的办法》第五条").missing == ("招生录取的办法",)  # and so is a title in 《》


def test_a_kind_of_document_after_a_place_is_that_places_document():
    """"青岛的实施办法" is 青岛's 实施《…》办法, not the one other title with 实施办法 in it; a kind alone still
    names the one document of that kind (行动方案)."""
    names = DocNames({**DOCS, "qd": ("青岛市实施《中华人民共和国民办教育促进法》办法", "青岛市", ()),
                      "sx": ("绍兴市第一中学绩效工资考核实施办法", "绍兴市", ()),
                      "plan": ("中小学教育质量提升行动方案", "通用", ())})
    assert names.resolve("青岛的实施办法对赞助费怎么规定？").doc_ids == ("qd",)
    assert names.resolve("成都的实施办法对赞助费怎么规定？").doc_ids == ()
    assert names.resolve("行动方案里的教师发展基金用来支持什么？").doc_ids == ("plan",)


def test_words_told_before_a_name_are_not_part_of_it():
    names = DocNames({**DOCS, "jyf": ("中华人民共和国教育法", "全国", ()),
                      "jt": ("中华人民共和国家庭教育促进法", "全国", ())})
    assert names.resolve("她说家庭教育促进法里讲当爸妈的从怀孕就得开始学？").doc_ids == ("jt",)
    assert names.resolve("我老婆说教育法第十九条讲了什么？").doc_ids == ("jyf",)
    missing = names.resolve("义务教育法第五条讲的什么？")  # a longer name is not 教育法 with words before it
    assert missing.doc_ids == () and missing.missing == ("义务教育法",)
