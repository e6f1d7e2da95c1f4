"""我的清单 in the web app: `python app.py` in a subprocess over a copy of the session index, its
/checklist API called with gradio_client, and the tab driven in headless Chromium (1366 px, 390 px, dark).

Screenshots go to a temporary directory (printed at the end), or to ZHENGCE_SCREENSHOTS if set.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.test_app_client import assert_chinese

ROW = "#ck-table table.zc-table tbody tr"
TIMEOUT = 30_000  # ms


@pytest.fixture(scope="module")
def client(app):
    from gradio_client import Client

    return Client(app[0], verbose=False)


def checklist(client, region=None, stage=None, role=None, rank=None, years=5):
    return client.predict(region, stage, role, rank, years, api_name="/checklist")


def test_the_choices_are_the_calculators_vocabulary():
    from assistant.calc import norm_rank
    from assistant.inputs import _ROLES, _UNCOVERED_RANKS
    from web.checklist import RANKS, ROLES

    assert all(r in _ROLES or r in ("教师", "班主任") for r in ROLES)
    assert all(norm_rank(r) or r in _UNCOVERED_RANKS for r in RANKS)


# ---- the API ------------------------------------------------------------------------------


def test_checklist_endpoint_is_typed(client):
    named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert "/checklist" in named
    ret = named["/checklist"]["returns"][0]["type"]
    assert set(ret["properties"]) == {"profile", "items", "message", "error", "error_type"}
    item = ret["properties"]["items"]["items"]["properties"]
    assert {"doc_id", "title", "region", "clause", "requirement", "per_year", "per_span", "quote"} <= set(item)
    assert [p["parameter_name"] for p in named["/checklist"]["parameters"]] == ["region", "stage", "role", "rank",
                                                                                "years"]


def test_first_rank_teacher_in_qingyuan_gets_cited_rules_from_the_corpus(client, store):
    from assistant.calc import Profile
    from assistant.calc import checklist as engine

    r = checklist(client, "清远市", None, "教师", "中学一级", 5)
    assert r["error"] is None and r["error_type"] is None
    assert r["profile"] == {"region": "清远市", "stage": None, "role": "教师", "rank": "中学一级", "years": 5}
    items = r["items"]
    assert items, r["message"]
    for it in items:
        assert it["region"] == "清远市" and it["clause"] and it["title"]
        clause = store.clause(it["doc_id"], it["clause"])
        assert clause is not None, it
        assert it["quote"] and it["quote"] in clause.text, it  # verbatim in the cited clause
    # the 课题 quota for 中学一级 teachers: 1 项 every 5 years, so 1 in 5 years and none in a single year
    (k,) = [it for it in items if it["clause"] == "三(二)4"]
    assert "中學一級教師" in k["quote"] and "課題研究" in k["quote"]
    assert (k["per_year"], k["per_span"], k["unit"], k["period"]) == (0, 1, "项", "每5年")
    # other ranks' and other roles' rules are not on this person's list
    assert not any("高級" in it["subject"] or "以下" in it["subject"] for it in items)
    assert all(it["clause"] != "三(一)1" for it in items)  # 学校领导 听课
    # the same rules the CLI's engine lists (python -m assistant checklist --json)
    same = engine(store, Profile(region="清远市", role="教师", rank="中学一级"), years=5)
    assert [(i["doc_id"], i["clause"], i["quote"]) for i in items] == [(i["doc_id"], i["clause"], i["quote"])
                                                                       for i in same]
    assert "1 条" in r["message"] or f"{len(items)} 条" in r["message"]


def test_totals_follow_the_span(client):
    r = checklist(client, "清遠", None, "学校领导", None, 2)  # a traditional-script region name is understood
    assert r["error"] is None and r["profile"]["region"] == "清远市"
    (it,) = [x for x in r["items"] if x["clause"] == "三(一)1"]
    assert "30" in it["quote"] and it["period"] == "每学期"
    assert (it["per_year"], it["per_span"], it["span_years"], it["unit"]) == (60, 120, 2, "节")


def test_nothing_applies_is_said_honestly_with_where_such_rules_exist(client):
    r = checklist(client, "随州市", None, "教师", "中学一级", 5)
    assert r["error"] is None and r["items"] == []
    assert "没有适用" in r["message"] and "随州市" in r["message"]
    assert "清远市" in r["message"] and "不适用于随州市" in r["message"]  # named, never listed as theirs
    assert_chinese(r["message"])


@pytest.mark.parametrize("args, kind, words", [
    ((None, None, None, None, 5), "bad_request", ["请至少选择"]),
    (("", "  ", "", "", 5), "bad_request", ["请至少选择"]),
    (("火星市", None, "教师", "中学一级", 5), "bad_request", ["火星市", "清远市"]),
    (("清远市", None, "教师", "特级", 5), "bad_input", ["特级", "中学一级"]),
    (("清远市", "大学", "教师", None, 5), "bad_input", ["大学", "小学"]),
    (("清远市", None, "教师", None, 0), "bad_input", ["年数"]),
    (("清远市", None, "教师", None, 500), "bad_input", ["年数"]),
])
def test_bad_profiles_get_a_typed_chinese_error(client, args, kind, words):
    r = checklist(client, *args)
    assert r["items"] == [] and r["profile"] is None
    assert r["error_type"] == kind, r
    assert_chinese(r["error"])
    assert all(w in r["error"] for w in words), r["error"]
    assert checklist(client, "清远市", None, "教师", "中学一级")["items"]  # still working afterwards


# ---- the tab, in a browser --------------------------------------------------------------------


@pytest.fixture
def open_tab(browser, app):
    """open_tab(viewport, dark) -> a fresh page of the app with the 我的清单 tab open."""
    contexts, errors = [], []

    def _open(viewport, dark=False):
        ctx = browser.new_context(viewport=viewport, locale="zh-CN", color_scheme="dark" if dark else "light")
        contexts.append(ctx)
        pg = ctx.new_page()
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(app[0])
        pg.wait_for_selector("#question textarea")  # the page is built
        pg.wait_for_function("document.querySelector('#status').innerText.includes('已加载')")
        pg.get_by_role("tab", name="我的清单").click()
        pg.wait_for_selector("#ck-region input", state="visible")
        return pg

    yield _open
    for ctx in contexts:
        ctx.close()
    assert not errors, errors


def choose(page, elem_id: str, option: str) -> None:
    page.click(f"#{elem_id} input")
    page.get_by_role("option", name=option, exact=True).click()


def fill_profile(page, region: str, role: str, rank: str | None, years: float = 5) -> None:
    choose(page, "ck-region", region)
    choose(page, "ck-role", role)
    if rank:
        choose(page, "ck-rank", rank)
    page.fill("#ck-years input", str(years))
    page.click("#ck-btn")


@pytest.mark.browser
def test_the_tab_lists_my_rules_with_quotes_and_a_csv(open_tab, shots):
    from tests.test_app_browser import DESKTOP

    page = open_tab(DESKTOP)
    fill_profile(page, "清远市", "教师", "中学一级")
    page.wait_for_selector("#ck-csv a", timeout=TIMEOUT)
    rows = page.locator(ROW)
    assert rows.count() >= 1
    heads = page.locator("#ck-table thead th").all_inner_texts()
    assert heads == ["文件", "地区", "条款", "规定", "每年合计", "5年合计", "原文"]
    row = rows.filter(has_text="三(二)4").first
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    assert cells[1:3] == ["清远市", "三(二)4"]
    assert cells[5].startswith("1项") and "中學一級教師" in cells[6] and "課題研究" in cells[6]
    assert "条规定适用" in page.locator("#ck-msg").inner_text()
    page.screenshot(path=str(shots / "checklist.png"), full_page=True)

    with page.expect_download() as dl:
        page.locator("#ck-csv a").first.click()
    text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
    got = list(csv.DictReader(io.StringIO(text)))
    assert list(got[0]) == ["region", "title", "clause", "subject", "requirement", "period", "per_year", "per_span",
                            "unit", "conditions", "quote"]  # the CLI's --csv columns
    assert any(r["clause"] == "三(二)4" and r["per_span"] == "1" for r in got)

    # a region with no such rule: said so, no table, no file
    page.click("#ck-region input")
    page.get_by_role("option", name="随州市", exact=True).click()
    page.click("#ck-btn")
    page.wait_for_function("document.querySelector('#ck-msg').innerText.includes('没有适用')", timeout=TIMEOUT)
    assert page.locator(ROW).count() == 0 and page.locator("#ck-csv a").count() == 0
    assert "清远市" in page.locator("#ck-msg").inner_text()
    page.screenshot(path=str(shots / "checklist-none.png"))


@pytest.mark.browser
def test_the_tab_on_a_phone_and_in_dark_mode(open_tab, shots):
    from tests.test_app_browser import PHONE, contrast, luminance

    page = open_tab(PHONE)
    fill_profile(page, "清远市", "学校领导", None, 2)
    page.wait_for_selector(ROW, timeout=TIMEOUT)
    assert "120节" in page.locator(ROW).first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1  # no sideways scrolling
    assert not page.locator("#ck-table thead").is_visible()  # one card per rule, each cell labelled
    label = page.evaluate(f"getComputedStyle(document.querySelector(\"{ROW} td.c-quote\"), '::before').content")
    assert "原文" in label  # the header, shown before each cell (CSS, so not in innerText)
    page.screenshot(path=str(shots / "checklist-mobile.png"), full_page=True)

    from tests.test_app_browser import DESKTOP

    page = open_tab(DESKTOP, dark=True)
    fill_profile(page, "清远市", "教师", "中学一级")
    page.wait_for_selector(ROW, timeout=TIMEOUT)
    assert page.evaluate("document.body.classList.contains('dark') || "
                         "document.documentElement.classList.contains('dark')")
    fg = page.evaluate(f"getComputedStyle(document.querySelector(\"{ROW} td.c-quote\")).color")
    assert luminance(fg) > 0.5  # light text on the dark page
    th_fg, th_bg = page.evaluate("(() => { const s = getComputedStyle(document.querySelector('#ck-table th'));"
                                 " return [s.color, s.backgroundColor]; })()")
    assert contrast(th_fg, th_bg) >= 4.5, (th_fg, th_bg)
    page.screenshot(path=str(shots / "checklist-dark.png"), full_page=True)
