"""The web app's 文件 tab in headless Chromium: browsing documents, uploads refused and accepted,
and a question asked while the index is still being built. Fixtures (app, browser, open_page,
shots) are in conftest; the chat and compare tests are in tests/test_app_browser.py.
"""
from __future__ import annotations

import re

import pytest

from tests.test_app_browser import ANSWER_TIMEOUT, BOT, DESKTOP, ROWS, ask, assert_no_english
from tests.test_app_client import running_app

pytestmark = pytest.mark.browser


def test_documents_upload_refusals_in_chinese_and_header_refresh(open_page, tmp_path, shots):
    page = open_page()
    page.get_by_role("tab", name="文件").click()
    table = page.locator(f"#doc-table {ROWS}")
    assert table.count() == 5

    page.click("#doc-picker input")
    page.get_by_role("option", name=re.compile("随州市")).click()
    page.wait_for_selector("#clause-tree label")
    page.locator("#clause-tree label", has_text="六(二)").first.click()
    page.wait_for_function("document.querySelector('#doc-clause').innerText.includes('1.5%')")
    page.screenshot(path=str(shots / "documents.png"), full_page=True)

    # files that cannot be read are refused in Chinese and change nothing
    bad_pdf = tmp_path / "坏文件.pdf"
    bad_pdf.write_bytes(b"%PDF-1.4 this is not really a pdf" + bytes(range(256)))
    exe = tmp_path / "setup.exe"
    exe.write_bytes(b"MZ" + bytes(200))
    for bad in (bad_pdf, exe):
        page.set_input_files("#upload input[type=file]", str(bad))
        page.wait_for_function(f"document.querySelector('#upload-msg').innerText.includes('{bad.name}')",
                               timeout=ANSWER_TIMEOUT)
        msg = page.locator("#upload-msg").inner_text()
        assert "无法导入" in msg
        assert_no_english(msg.replace(bad.name, ""))
    assert table.count() == 5

    # a file over the upload limit is stopped in the browser; Gradio's English toast is shown in Chinese
    big = tmp_path / "太大.txt"
    with open(big, "wb") as f:
        f.truncate(50 * 1024 * 1024 + 1)
    page.set_input_files("#upload input[type=file]", str(big))
    page.wait_for_function("Array.from(document.querySelectorAll('.toast-body')).some("
                           "t => t.innerText.includes('文件太大'))", timeout=ANSWER_TIMEOUT)
    assert_no_english(page.locator(".toast-body").last.inner_text())
    assert table.count() == 5

    # a good file is indexed and searchable at once; the header and the region lists follow
    good = tmp_path / "劳动 教育(通知).txt"
    good.write_text("肇庆市教育局关于加强中小学劳动教育的通知\n\n一、总体要求\n"
                    "（一）各中小学每周开设劳动教育课不少于1课时，纳入课程表。\n"
                    "二、保障措施\n（一）劳动教育经费按生均每年20元标准安排，专款专用。\n", encoding="utf-8")
    page.set_input_files("#upload input[type=file]", str(good))
    page.wait_for_function("document.querySelector('#upload-msg').innerText.includes('✅')", timeout=60_000)
    assert "劳动_教育_通知.txt" in page.locator("#upload-msg").inner_text()
    assert table.count() == 6
    status = page.locator("#status").inner_text()
    assert "6 份文件" in status and "肇庆市" in status

    page.get_by_role("tab", name="对比").click()
    assert page.get_by_role("checkbox", name="肇庆市").count() == 1
    page.get_by_role("tab", name="问答").click()
    text = ask(page, "肇庆市劳动教育课每周多少课时？")
    assert "1课时" in text and "肇庆市" in text


def test_a_question_asked_while_the_index_builds_is_answered_when_it_is_ready(browser, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "zhaoqing.txt").write_text(
        "肇庆市教育局关于加强中小学劳动教育的通知\n\n一、总体要求\n"
        "（一）各中小学每周开设劳动教育课不少于1课时，纳入课程表。\n"
        "二、保障措施\n（一）劳动教育经费按生均每年20元标准安排，专款专用。\n", encoding="utf-8")
    data = tmp_path / "index"  # empty: the app builds it in the background
    with running_app(data, tmp_path / "app.log", corpus=corpus) as url:
        ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        try:
            page = ctx.new_page()
            page.goto(url)
            page.wait_for_selector("#question textarea")
            building = "正在" in page.locator("#status").inner_text()
            page.fill("#question textarea", "肇庆市劳动教育课每周多少课时？")
            page.click("#send")
            if building:  # asked before the index was ready: a notice, then the answer
                page.wait_for_selector(f"{BOT} .zc-wait, {BOT} .zc-answer", timeout=ANSWER_TIMEOUT)
            page.wait_for_function(f"Array.from(document.querySelectorAll(\"{BOT}\")).some("
                                   "b => b.innerText.includes('1课时'))", timeout=120_000)
            assert "无法回答" not in page.locator(BOT).last.inner_text()
            page.wait_for_function("document.querySelector('#status').innerText.includes('已加载 1 份文件')",
                                   timeout=ANSWER_TIMEOUT)
        finally:
            ctx.close()
