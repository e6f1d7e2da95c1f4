"""The web app as a person uses it: `python app.py` in a subprocess, driven in headless Chromium.

Also writes the README screenshots to docs/screenshots/ (chat.png, compare.png, documents.png).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_app_client import running_app

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
BOT = "#chatbot [data-testid='bot']"
ANSWER_TIMEOUT = 30_000  # ms
ROWS = "[role=row]:has([role=gridcell])"  # gr.Dataframe's body rows (a div grid, not <tbody>)


def _ensure_chromium() -> None:
    if CHROMIUM.exists():
        return
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        subprocess.run("apt-get update -qq && apt-get install -y -qq chromium chromium-driver",
                       shell=True, capture_output=True, timeout=900)
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing and could not be installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def app_url(built_index, tmp_path_factory):
    _ensure_chromium()
    data = tmp_path_factory.mktemp("browser-app") / "index"
    shutil.copytree(built_index, data)
    with running_app(data, data.parent / "app.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(app_url)
    pg.wait_for_selector("#question textarea")
    yield pg
    context.close()
    assert not errors, errors


def ask(page, question: str) -> str:
    """Type a question, send it, return the text of the new answer."""
    before = page.locator(BOT).count()
    page.fill("#question textarea", question)
    page.click("#send")
    page.wait_for_function(f"document.querySelectorAll(\"{BOT}\").length > {before}", timeout=ANSWER_TIMEOUT)
    return page.locator(BOT).last.inner_text()


def test_chat_answer_with_citation_and_clause_panel(page):
    text = ask(page, "学校领导每学期听课多少节？")
    assert "30" in text
    assert re.search(r"\[\d+\]", text)
    assert "Traceback" not in text

    # the citation list under the chat; choosing [1] shows the whole clause with the quote marked
    first = page.locator("#citations label").first
    assert "三(一)1" in first.inner_text()
    first.click()
    page.wait_for_selector("#clause-panel mark")
    panel = page.locator("#clause-panel")
    assert "三(一)1" in panel.inner_text()
    assert "清远市" in panel.inner_text()
    mark = page.locator("#clause-panel mark").first.inner_text()
    assert "30" in mark
    assert len(panel.locator(".clause-text").inner_text()) > len(mark) + 50  # the whole clause, not just the quote

    # the calculation is one click away
    page.locator(f"{BOT} summary").last.click()
    calc = page.locator(f"{BOT} details").last.inner_text()
    assert "输入" in calc and "结果" in calc and "30" in calc

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "chat.png"), full_page=True)


def test_follow_up_example_button_and_errors_in_chat(page):
    ask(page, "学校领导每学期听课多少节？")
    assert "60" in ask(page, "那一学年呢？")  # multi-turn: the session remembers the question

    before = page.locator(BOT).count()
    page.get_by_role("button", name="我们学校30个班，要不要建名师工作室？").click()
    page.wait_for_function(f"document.querySelectorAll(\"{BOT}\").length > {before}", timeout=ANSWER_TIMEOUT)
    assert "工作室" in page.locator(BOT).last.inner_text()

    err = ask(page, "   ")
    assert "⚠️" in err and "empty" in err and "Traceback" not in err
    assert "30" in ask(page, "学校领导每学期听课多少节？")  # still answering afterwards


def test_compare_table_one_row_per_city(page):
    page.get_by_role("tab", name="对比").click()
    topic = page.locator("#topic input")
    topic.fill("教师培训经费")
    topic.press("Enter")
    page.get_by_role("checkbox", name="清远市").check()
    page.get_by_role("checkbox", name="随州市").check()
    page.click("#compare-btn")
    page.wait_for_selector("#compare-csv a", timeout=ANSWER_TIMEOUT)
    rows = page.locator(f"#compare-table {ROWS}")
    assert rows.count() == 2
    cities = [rows.nth(i).locator("[role=gridcell]").first.inner_text().strip() for i in range(2)]
    assert cities == ["清远市", "随州市"]
    assert "1.5%" in rows.nth(1).inner_text()
    assert "2/2" in page.locator("#compare-msg").inner_text()
    assert ".csv" in page.locator("#compare-csv").inner_text()
    page.screenshot(path=str(SHOTS / "compare.png"), full_page=True)


def test_documents_tab_browse_and_upload(page, tmp_path):
    page.get_by_role("tab", name="文件").click()
    table = page.locator(f"#doc-table {ROWS}")
    assert table.count() == 5

    page.click("#doc-picker input")
    page.get_by_role("option", name=re.compile("随州市")).click()
    page.wait_for_selector("#clause-tree label")
    page.locator("#clause-tree label", has_text="六(二)").first.click()
    page.wait_for_function("document.querySelector('#doc-clause').innerText.includes('1.5%')")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "documents.png"), full_page=True)

    # a broken file is refused with a message and changes nothing
    bad = tmp_path / "坏文件.pdf"
    bad.write_bytes(b"%PDF-1.4 this is not really a pdf" + bytes(range(256)))
    page.set_input_files("#upload input[type=file]", str(bad))
    page.wait_for_function("document.querySelector('#upload-msg').innerText.includes('无法导入')",
                           timeout=ANSWER_TIMEOUT)
    assert table.count() == 5

    # a good file is indexed and searchable at once, under a safe name
    good = tmp_path / "劳动 教育(通知).txt"
    good.write_text("肇庆市教育局关于加强中小学劳动教育的通知\n\n一、总体要求\n"
                    "（一）各中小学每周开设劳动教育课不少于1课时，纳入课程表。\n"
                    "二、保障措施\n（一）劳动教育经费按生均每年20元标准安排，专款专用。\n", encoding="utf-8")
    page.set_input_files("#upload input[type=file]", str(good))
    page.wait_for_function("document.querySelector('#upload-msg').innerText.includes('✅')", timeout=60_000)
    assert "劳动_教育_通知.txt" in page.locator("#upload-msg").inner_text()
    assert table.count() == 6

    page.get_by_role("tab", name="问答").click()
    text = ask(page, "肇庆市劳动教育课每周多少课时？")
    assert "1课时" in text and "肇庆市" in text
