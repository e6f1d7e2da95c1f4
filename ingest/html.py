"""HTML page → the policy text it carries.

A saved web page is mostly site chrome (navigation, "推荐阅读", footer). The
document is the block with the most non-link text; everything outside it is
chrome and never reaches the index. Inside it, only block elements start a new
line, so inline markup (<span>2</span><span>25</span>) never splits a word or a
number, and table rows keep their cells in order, tab-separated.
"""
from __future__ import annotations

import re

BLOCKS = frozenset(
    "p div br li ul ol tr table tbody thead h1 h2 h3 h4 h5 h6 section article header footer blockquote pre "
    "dl dt dd form hr center".split()
)
CELLS = frozenset({"td", "th"})
DROP = ("script", "style", "noscript", "iframe", "object", "embed", "svg", "template", "head")
MIN_MAIN = 200  # a page whose best block has less text than this is not a document
MAX_LINK_DENSITY = 0.25
DESCEND = 0.95  # go into a child block that holds nearly all of its parent's text
LINK_MAX = 80
TITLE_SEPARATORS = re.compile(r"\s*(?:--|—{1,2}|_|\||｜|-\s)\s*")


def _nonlink_len(el) -> tuple[int, int]:
    text = len(el.get_text("", strip=True))
    # Navigation is short links; Word-exported pages wrap whole sections in one <a name=…> anchor.
    lens = (len(a.get_text("", strip=True)) for a in el.find_all("a", href=True))
    links = sum(n for n in lens if n <= LINK_MAX)
    return text, links


def _main_block(soup):
    best, best_score = None, 0
    for el in soup.find_all(["div", "td", "article", "section", "main", "body"]):
        text, links = _nonlink_len(el)
        if text < MIN_MAIN or links > MAX_LINK_DENSITY * text:
            continue
        score = text - links
        if score > best_score:
            best, best_score = el, score
    if best is None:
        return soup.body or soup
    # The wrapper with the most text also holds the page's sidebars only when their links are few;
    # descend while one child carries nearly everything, keeping a heading sibling (the title) in.
    while True:
        kids = [k for k in best.find_all(["div", "td", "article", "section"], recursive=False)]
        text, links = _nonlink_len(best)
        top = max(kids, key=lambda k: _nonlink_len(k)[0] - _nonlink_len(k)[1], default=None)
        if top is None:
            return best
        t2, l2 = _nonlink_len(top)
        if t2 - l2 < DESCEND * (text - links):
            return best
        best = top


CELL_BREAK = "\x00"  # a paragraph break inside a data cell, resolved once the cell's text is known
DATA_CELL_CHARS = 120  # a table cell longer than this is page layout, not a figure or a label


def _is_data_cell(cell) -> bool:
    return cell.find("table") is None and len(cell.get_text(strip=True)) <= DATA_CELL_CHARS


def _text(el) -> str:
    """Text of `el` with newlines only at block boundaries and tabs between table cells."""
    from bs4 import NavigableString, Tag

    out: list[str] = []

    def walk(node, inline: bool = False) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if child.__class__.__name__ in ("Comment", "Doctype", "ProcessingInstruction", "Declaration"):
                    continue
                # Source line breaks inside a paragraph are layout, not text.
                out.append(re.sub(r"[\r\n]+", "", str(child)))
            elif isinstance(child, Tag):
                name = child.name.lower()
                if name in BLOCKS and inline:
                    out.append(CELL_BREAK)
                    walk(child, inline)
                elif name in BLOCKS:
                    out.append("\n")
                    walk(child)
                    out.append("\n")
                elif name in CELLS:
                    # A data cell's paragraphs stay on its row (指标 \t 初中 \t 3.48 \t 8), so a quoted row keeps
                    # its figures; a layout cell that holds a whole page keeps its paragraphs.
                    walk(child, inline or _is_data_cell(child))
                    out.append("\t")
                else:
                    walk(child, inline)

    walk(el)
    text = "".join(out)
    # a cell's lines are one phrase wrapped to the cell's width (普通 / 高中): Chinese joins without a space
    text = re.sub(rf"[ \u3000\u00a0]*{CELL_BREAK}+[ \u3000\u00a0]*", CELL_BREAK, text)
    text = re.sub(rf"(?<=[\u4e00-\u9fff（）、，]){CELL_BREAK}(?=[\u4e00-\u9fff（）])", "", text)
    text = re.sub(rf"(^|(?<=[\t\n])){CELL_BREAK}|{CELL_BREAK}(?=[\t\n]|$)", "", text)
    lines = text.replace(CELL_BREAK, " ").split("\n")
    return "\n".join(line.rstrip("\t ") for line in lines if line.strip(" \t\u3000\u00a0"))


def page_title(soup) -> str:
    """The <title> without the site suffix ("…通知--党政办-绍兴市第一中学" → "…通知")."""
    raw = soup.title.get_text(" ", strip=True) if soup.title else ""
    return TITLE_SEPARATORS.split(raw, maxsplit=1)[0].strip() if raw else ""


def html_to_text(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    # Script/style never reach the index: what a page would execute is not policy text.
    for tag in soup(DROP):
        if tag.name == "head":
            continue
        tag.decompose()
    title = page_title(soup)
    for tag in soup(["head"]):
        tag.decompose()
    main = _main_block(soup)
    text = _text(main)
    # The page heading often sits just outside the text block: keep it as the first line.
    if title and title not in text[:300]:
        heading = next((h for h in soup.find_all(["h1", "h2"]) if h.get_text(strip=True)
                        and title.startswith(h.get_text(strip=True)[:8])), None)
        if heading is not None:
            sub = heading.find_next_sibling(["h3", "h4"])
            extra = sub.get_text(" ", strip=True) if sub else ""
            text = heading.get_text(" ", strip=True) + (f"\n{extra}" if extra else "") + "\n" + text
    return text
