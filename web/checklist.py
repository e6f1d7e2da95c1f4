"""我的清单 in the web app: a profile (region, stage, role, rank, span) → every rule that applies.

The rules and the totals come from `assistant.calc.checklist`, the engine behind
`python -m assistant checklist`; this module only checks the profile, words the result in
Chinese and renders it. The 我的清单 tab and the /checklist API (web/api.py) share `run`,
so the page and a program always see the same rules.
"""
from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.inputs import _UNCOVERED_RANKS, MAX_YEARS, _fmt, _number
from assistant.inputs import _text as _clean  # blank → None, simplified, no spaces: as the tools read inputs
from ingest.errors import ToolInputError, UsageError
from web.api import report
from web.render import esc, table_html
from web.service import Service

# The vocabulary the CLI and the calculator tools accept (assistant/inputs.py): a rank outside it
# would silently match no rule, so it is refused; roles are matched against the rule's wording and
# a role the list lacks (教研员) is still accepted, as `checklist --role` accepts it.
ROLES = ["教师", "班主任", "学校领导", "校长", "副校长", "分管校长", "书记", "党支部书记",
         "分管教学教研工作的处室干部", "处室干部", "教务主任", "教研主任", "教导主任", "中层干部"]
RANKS = ["中学高级", "中学一级", "中学一级以下", "中学二级", "中学三级", "小学高级", "小学一级", "小学二级",
         "小学三级", "未定级", "见习", "正高级"]
# Stages as the engine compares them with a rule's school types (中学 covers 中小学, 初中, 高中).
STAGES = ["中学", "小学", "幼儿园", "中等职业学校"]
DEFAULT_YEARS = 5
MAX_ROLE_CHARS = 30

HEADERS = ["文件", "地区", "条款", "规定", "每年合计", "{y}年合计", "原文"]
CLASSES = ["c-doc", "c-region", "c-clause", "c-rule", "c-total", "c-total", "c-quote"]
EMPTY_PROFILE = "请至少选择地区、学段、身份或职称中的一项，例如：清远市、教师、中学一级。"


@dataclass(frozen=True)
class Checklist:
    profile: Any  # assistant.calc.Profile
    years: float
    items: list[dict[str, Any]]
    message: str  # one Chinese sentence: how many rules apply, or honestly that none does

    def csv(self) -> str:
        from assistant.calc import checklist_csv

        return checklist_csv(self.items)  # the CLI's --csv columns, byte for byte


def profile_of(store, region: Any, stage: Any, role: Any, rank: Any, years: Any):
    """(Profile, years) from what a person or program gave; a Chinese UsageError/ToolInputError otherwise."""
    from assistant.calc import Profile, norm_rank

    region, stage, role, rank = (_clean(x) for x in (region, stage, role, rank))
    if not any((region, stage, role, rank)):
        raise UsageError(EMPTY_PROFILE)
    if region:
        (region,) = store.check_regions([region])  # 清遠 → 清远市; an unknown one names what the index has
    if stage and stage not in STAGES:
        raise ToolInputError(f"未知的学段“{stage}”；可选：{'、'.join(STAGES)}")
    if rank and norm_rank(rank) is None and rank.replace("教师", "") not in _UNCOVERED_RANKS:
        raise ToolInputError(f"未知的教师职称“{rank}”；可选：{'、'.join(RANKS)}")
    if role and len(role) > MAX_ROLE_CHARS:
        raise ToolInputError(f"身份太长（最多 {MAX_ROLE_CHARS} 个字），例如：教师、班主任、学校领导")
    span = _number(DEFAULT_YEARS if years in (None, "") else years, "年数", high=MAX_YEARS)
    return Profile(region=region, stage=stage, role=role, rank=rank), float(span)


def who(profile) -> str:
    return "、".join(x for x in (profile.region, profile.stage, profile.rank, profile.role) if x)


def run(service: Service, region: Any = None, stage: Any = None, role: Any = None, rank: Any = None,
        years: Any = DEFAULT_YEARS) -> Checklist:
    from assistant.calc import checklist

    store = service.get().store
    profile, span = profile_of(store, region, stage, role, rank, years)
    items = checklist(store, profile, years=span)
    if items:
        regions = "、".join(dict.fromkeys(it["region"] for it in items))
        msg = (f"按“{who(profile)}”，共 {len(items)} 条规定适用（来自{regions}的文件）。"
               "合计 = 每期数量 × 期数；每N年一次的要求只计完整的周期。")
        return Checklist(profile, span, items, msg)
    msg = f"已收录的文件里没有适用于“{who(profile)}”的量化规定。"
    if profile.region:  # say where such a person does have rules, never list them as theirs
        import dataclasses

        elsewhere = [r for r in dict.fromkeys(
            it["region"] for it in checklist(store, dataclasses.replace(profile, region=None), years=span))
            if r != profile.region]
        if elsewhere:
            msg += f"有相应规定的地区：{'、'.join(elsewhere)}（不适用于{profile.region}）。"
    return Checklist(profile, span, [], msg)


def total_cell(total: float | None, unit: str, period: str, years: float) -> str:
    """A total with how it was counted when that is not plain multiplication (a partial 每5年 period)."""
    from assistant.calc import periods_in

    if total is None:
        return "—（不按期累加）"
    _n, note = periods_in(period or None, years)
    m = re.search(r"（(.+)）$", note)  # 每N年: only the part that says what was left out
    note = m.group(1) if m else ("" if note.startswith("含") else note)
    return f"{_fmt(total)}{unit}" + (f"（{note}）" if note else "")


def rule_text(it: dict[str, Any]) -> str:
    """Who, how often, how much: our label (simplified); the quote beside it stays verbatim."""
    from ingest.textnorm import t2s

    parts = [t2s(it["subject"] or ""), it["period"], it["requirement"]]
    text = " ".join(p for p in parts if p)
    return text + (f"（条件：{it['conditions']}）" if it.get("conditions") else "")


def table_rows(c: Checklist) -> list[list[str]]:
    return [[it["title"], it["region"], it["clause"], rule_text(it),
             total_cell(it["per_year"], it["unit"], it["period"], 1.0),
             total_cell(it["per_span"], it["unit"], it["period"], c.years), it["quote"]] for it in c.items]


def headers(years: float) -> list[str]:
    return [h.format(y=_fmt(years)) for h in HEADERS]


class ChecklistTab:
    def __init__(self, service: Service):
        self.service = service

    def build(self, regions: list[str]) -> None:
        gr.Markdown("选择自己的地区、学段、身份和职称，列出已收录文件中适用于你的每一条量化规定，"
                    "并按年数折算合计；每条都附条款和原文。全国性文件的规定对所有地区都适用。")
        with gr.Row(elem_id="checklist-profile"):
            self.region = gr.Dropdown(choices=regions, value=None, label="地区", elem_id="ck-region",
                                      min_width=140)
            self.stage = gr.Dropdown(choices=STAGES, value=None, label="学段（可不选）", elem_id="ck-stage",
                                     min_width=140)
            self.role = gr.Dropdown(choices=ROLES, value=None, allow_custom_value=True, label="身份（可输入）",
                                    elem_id="ck-role", min_width=140)
            self.rank = gr.Dropdown(choices=RANKS, value=None, label="职称（可不选）", elem_id="ck-rank",
                                    min_width=140)
            self.years = gr.Number(value=DEFAULT_YEARS, minimum=0, maximum=60, precision=None, label="年数",
                                   elem_id="ck-years", min_width=90)
        with gr.Row():
            self.btn = gr.Button("生成我的清单", variant="primary", elem_id="ck-btn", scale=0, min_width=160)
        self.msg = gr.Markdown("", elem_id="ck-msg")
        self.table = gr.HTML("", elem_id="ck-table")
        # shown only with a list to download: an empty file box under "没有适用的规定" reads like a missing file
        self.file = gr.File(label="下载 CSV", interactive=False, visible=False, elem_id="ck-csv")

    def show(self, region, stage, role, rank, years):
        try:
            c = run(self.service, region, stage, role, rank, years)
        except Exception as e:
            return "", gr.update(value=None, visible=False), f"⚠️ {esc(report(e, 'checklist'))}"
        if not c.items:
            return "", gr.update(value=None, visible=False), esc(c.message)
        slug = re.sub(r"[^\w-]+", "_", who(c.profile))[:40]
        out = Path(tempfile.mkdtemp(prefix="zhengce-csv-")) / f"我的清单_{slug}.csv"
        out.write_text(c.csv(), encoding="utf-8-sig")  # BOM: Excel opens the Chinese columns right
        return (table_html(headers(c.years), table_rows(c), CLASSES), gr.update(value=str(out), visible=True),
                esc(c.message))

    def wire(self) -> None:
        self.btn.click(self.show, [self.region, self.stage, self.role, self.rank, self.years],
                       [self.table, self.file, self.msg], api_visibility="private")
