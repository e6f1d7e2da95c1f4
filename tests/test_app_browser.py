"""The web app as a person uses it: `python app.py` in a subprocess, driven in headless Chromium
at 1366 px, at 390 px (a phone) and in dark mode.

Screenshots go to a temporary directory (printed at the end of the run). To refresh the README's
screenshots on purpose: ZHENGCE_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/test_app_browser.py
The constants and helpers here are shared (conftest's app/browser/open_page/shots fixtures,
tests/test_app_browser_docs.py for the 文件 tab and a still-building index, tests/test_app_checklist.py).
"""
from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_app_client import ENGLISH

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
BOT = "#chatbot [data-testid='bot']"
ANSWER_TIMEOUT = 30_000  # ms
ROWS = "table.zc-table tbody tr"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _ensure_chromium() -> None:
    if CHROMIUM.exists():
        return
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        subprocess.run("apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei",
                       shell=True, capture_output=True, timeout=900)
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing and could not be installed (apt-get install chromium)")


def ask(page, question: str) -> str:
    """Type a question, send it, return the text of the new answer."""
    before = page.locator(BOT).count()
    page.fill("#question textarea", question)
    page.click("#send")
    page.wait_for_function(f"document.querySelectorAll(\"{BOT}\").length > {before}", timeout=ANSWER_TIMEOUT)
    return page.locator(BOT).last.inner_text()


def panel_shows(page, clause: str, marked: str) -> None:
    page.wait_for_function(f"document.querySelector('#zc-panel mark') && "
                           f"document.querySelector('#zc-panel').innerText.includes('{clause}')")
    mark = page.locator("#zc-panel mark").first.inner_text()
    assert marked in mark
    text = page.locator("#zc-panel .clause-text").inner_text()
    assert len(text) > len(mark) + 50  # the whole clause, not just the quote


def luminance(rgb: str) -> float:
    vals = [int(x) / 255 for x in re.findall(r"\d+", rgb)[:3]]
    lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in vals]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def assert_no_english(msg: str) -> None:
    assert re.search(r"[\u4e00-\u9fff]", msg), msg
    assert not ENGLISH.search(msg), msg
    assert "Traceback" not in msg and "Error" not in msg, msg


# ---------------------------------------------------------------------------
def test_sources_beside_each_answer_history_and_feedback(open_page, app, shots):
    page = open_page()
    text = ask(page, "学校领导一学年至少要听多少节课？")  # a span to compute over: the calculator answers
    assert "30" in text and "60" in text and "[1]" in text and "Traceback" not in text
    assert "出处" in text and "<" not in text and "**" not in text

    # [1] in the answer opens the clause beside it: heading path, whole clause, quote highlighted
    page.locator(f"{BOT} .zc-cite").first.click()
    panel_shows(page, "三(一)1", "30")
    panel = page.locator("#zc-panel").inner_text()
    assert "清远市" in panel and "具體工作措施" in panel  # the heading path above the clause
    box, chat = page.locator("#clause-panel").bounding_box(), page.locator("#chatbot").bounding_box()
    assert box["x"] > chat["x"] + chat["width"] - 5 and box["y"] < chat["y"] + 200  # beside the chat, at the top

    # the calculation is one click away, in words (no internal names)
    page.locator(f"{BOT} summary").last.click()
    calc = page.locator(f"{BOT} details").last.inner_text()
    assert "输入" in calc and "结果" in calc and "30" in calc
    assert not re.search(r"[a-z]+_[a-z]+", calc), calc
    page.screenshot(path=str(shots / "chat.png"))

    # a second question; the first answer keeps its own sources
    assert "5‰" in ask(page, "清远市教研员配备比例是多少？")
    page.locator(f"{BOT} .zc-cite").last.click()
    page.wait_for_function("!document.querySelector('#zc-panel').innerText.includes('三(一)1')")
    page.locator(f"{BOT} .zc-cite").first.click()
    panel_shows(page, "三(一)1", "30")

    # reload: the conversation is still there, sources still open, and it is listed
    page.reload()
    page.wait_for_function(f"document.querySelectorAll(\"{BOT}\").length >= 2", timeout=ANSWER_TIMEOUT)
    assert "学校领导一学年至少要听多少节课" in page.locator("#history").inner_text()
    page.locator(f"{BOT} .zc-cite").first.click()
    panel_shows(page, "三(一)1", "30")

    # 👎 with a comment on the first answer -> in the feedback CSV
    page.get_by_role("button", name="踩").first.click()  # one 👍/👎 pair per answer, in order
    page.wait_for_selector("#feedback-text textarea", state="visible")
    page.fill("#feedback-text textarea", "应该同时给出一学年的节数")
    page.click("#feedback-send")
    page.wait_for_function("document.querySelector('#feedback-msg').innerText.includes('意见已提交')")
    out = subprocess.run([sys.executable, "-m", "web.feedback", "--csv", "--data-dir", str(app[1])],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(rows) == 1
    assert rows[0]["评价"] == "👎" and rows[0]["意见"] == "应该同时给出一学年的节数"
    assert rows[0]["问题"] == "学校领导一学年至少要听多少节课？" and "[1] 清远市" in rows[0]["出处"]


def test_copy_and_export_are_clean_text(open_page):
    page = open_page()
    ask(page, "比较清远和随州的教师培训经费规定")
    page.locator(f"{BOT} .zc-copy").last.click()
    page.wait_for_function("window.__zhengce_copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.evaluate("window.__zhengce_copied")
    assert "出处：\n[1] 清远市《" in copied and "[2] 随州市《" in copied and "：“" in copied
    assert not re.search(r"<[a-z/]|\*\*|&[a-z]+;", copied), copied

    with page.expect_download() as dl:
        page.locator(f"{BOT} .zc-export").last.click()
    md = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "**出处**" in md and "- [1] 清远市《" in md

    page.click("#export-chat")
    page.wait_for_selector("#export-file a", timeout=ANSWER_TIMEOUT)
    with page.expect_download() as dl:
        page.locator("#export-file a").first.click()
    conv = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "### 问：比较清远和随州的教师培训经费规定" in conv and "**出处**" in conv


def test_phone_layout_opens_sources_under_the_answer(open_page, shots):
    page = open_page(PHONE)
    ask(page, "学校领导每学期听课多少节？")
    assert not page.locator("#clause-panel").is_visible()
    page.locator(f"{BOT} .zc-cite").last.click()
    card = page.locator(f"{BOT} .zc-card.open")
    card.locator("mark").first.wait_for(state="visible")
    assert "三(一)1" in card.inner_text() and "30" in card.locator("mark").first.inner_text()
    a, c = page.locator(f"{BOT} .zc-text").last.bounding_box(), card.bounding_box()
    assert abs(a["x"] - c["x"]) < 40  # directly under the answer, same column
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1  # no sideways scrolling
    page.screenshot(path=str(shots / "chat-mobile.png"))

    # a long answer: the chat shows its first line, not its end
    ask(page, "比较清远和随州的教师培训经费规定")
    page.wait_for_timeout(300)
    top = page.locator(f"{BOT} .zc-text").last.bounding_box()["y"]
    chat = page.locator("#chatbot").bounding_box()
    assert chat["y"] - 5 <= top <= chat["y"] + 120, (top, chat)


def test_dark_mode_highlight_is_readable(open_page, shots):
    page = open_page(dark=True)
    ask(page, "学校领导每学期听课多少节？")
    page.locator(f"{BOT} .zc-cite").last.click()
    panel_shows(page, "三(一)1", "30")
    assert page.evaluate("document.body.classList.contains('dark') || "
                         "document.documentElement.classList.contains('dark')")
    fg, bg = page.evaluate("(() => { const s = getComputedStyle(document.querySelector('#zc-panel mark'));"
                           " return [s.color, s.backgroundColor]; })()")
    assert contrast(fg, bg) >= 4.5, (fg, bg)
    text_fg = page.evaluate("getComputedStyle(document.querySelector('#zc-panel .clause-text')).color")
    assert luminance(text_fg) > 0.5  # light text on the dark card
    page.screenshot(path=str(shots / "chat-dark.png"))


def test_follow_up_example_button_and_chinese_errors_in_chat(open_page):
    page = open_page()
    ask(page, "学校领导每学期听课多少节？")
    chips = page.locator(f"{BOT} .zc-suggest")  # suggested follow-ups, each one tried before it is shown
    assert "那一学年呢？" in chips.all_inner_texts()
    before = page.locator(BOT).count()
    chips.filter(has_text="那一学年呢？").first.click()
    page.wait_for_function(f"document.querySelectorAll(\"{BOT}\").length > {before}", timeout=ANSWER_TIMEOUT)
    assert "60" in page.locator(BOT).last.inner_text()  # multi-turn: the session remembers the question
    page.reload()
    page.wait_for_function(f"document.querySelectorAll(\"{BOT}\").length >= 2", timeout=ANSWER_TIMEOUT)
    assert "60" in ask(page, "那一学年呢？")  # and so does the conversation restored after a reload

    before = page.locator(BOT).count()
    page.get_by_role("button", name="我们学校30个班，要不要建名师工作室？").click()
    page.wait_for_function(f"document.querySelectorAll(\"{BOT}\").length > {before}", timeout=ANSWER_TIMEOUT)
    assert "工作室" in page.locator(BOT).last.inner_text()

    for bad in ["   ", "学" * 6000, "hello, what is the budget?"]:
        err = ask(page, bad)
        assert "⚠️" in err, err
        assert_no_english(err)
    assert "问题是空的" in ask(page, "")
    assert "30" in ask(page, "学校领导每学期听课多少节？")  # still answering afterwards


def test_each_quoted_span_has_its_own_source_and_context_does_not_go_stale(open_page, shots):
    page = open_page()
    text = ask(page, "哪些地方提到了名师工作室？")
    assert text.startswith("提到“名师工作室”的有") or "提到“名师工作室”的有" in text
    # 清远's row quotes two separate sentences of 三(二)6: each marker opens the clause with its own span marked
    markers = re.findall(r"“([^”]{6,})”\[(\d+)\]", text)
    assert {n for _, n in markers} >= {"2", "3"}, text
    cites = page.locator(f"{BOT} .zc-cite")
    texts = cites.all_inner_texts()
    for n in ("2", "3"):
        cites.nth(next(i for i, t in enumerate(texts) if n in t)).click()
        panel_shows(page, "三(二)6", "工作室")
    page.screenshot(path=str(shots / "spans.png"))
    # every span also under 出处
    assert text.count("三(二)6") >= 2

    # all three 跃升 of the enumeration, in the web chat too
    text = ask(page, "中小学教育质量提升行动方案提出的“三个跃升”是什么？")
    for part in ("內涵式發展", "優質均衡", "治理現代化"):
        assert part in text, text

    # a city asked about earlier does not scope an unrelated question
    ask(page, "随州市课后服务怎么安排？")
    text = ask(page, "名师工作室有什么要求？")
    assert "清远市" in text, text


def test_compare_table_one_row_per_city(open_page, shots):
    page = open_page()
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
    cities = [rows.nth(i).locator("td").first.inner_text().strip() for i in range(2)]
    assert cities == ["清远市", "随州市"]
    assert "1.5%" in rows.nth(1).inner_text()
    assert "2/2" in page.locator("#compare-msg").inner_text()
    assert ".csv" in page.locator("#compare-csv").inner_text()
    page.screenshot(path=str(shots / "compare.png"), full_page=True)

    topic.fill("")
    page.click("#compare-btn")
    page.wait_for_function("document.querySelector('#compare-msg').innerText.includes('⚠️')")
    assert_no_english(page.locator("#compare-msg").inner_text())
