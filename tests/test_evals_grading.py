"""The eval's grader: a cited sub-clause of a gold clause is a hit, another number is not."""
import pytest

from evals.run import hits_gold


@pytest.mark.parametrize("cited, gold, hit", [
    ("第五条2", "第五条", True), ("第六条⑤", "第六条", True), ("第十九条(二)", "第十九条", True),
    ("四(二)4", "四(二)", True), ("四1", "四", True), ("第一条", "第一条", True),
    ("第十条", "第一条", False), ("第二十条", "第二条", False), ("12", "1", False), ("二十", "二", False),
])
def test_sub_clauses_hit_and_other_numbers_do_not(cited, gold, hit):
    assert hits_gold(("某市", "doc", cited), {("doc", gold)}) is hit
    assert hits_gold(("某市", "doc", cited), {("别的文件", gold)}) is False
