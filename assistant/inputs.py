"""What the calculators accept: range limits, number checks, rank and role vocabulary,
and how money is written (…万元). Kept apart so the tools read as rules, not input hygiene."""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ingest.errors import ToolInputError
from ingest.textnorm import t2s

MAX_YEARS = 60  # a whole career
MAX_SEMESTERS = 2 * MAX_YEARS
MAX_PEOPLE = 10_000
MAX_TEACHERS = 10_000_000
MAX_CLASSES = 1_000
MAX_SCHOOLS = 100_000
MAX_YUAN = 1e11  # 1000亿元: far above any school's or city's budget line
MIN_YEAR, MAX_YEAR = 1949, 2100

# ---- inputs -------------------------------------------------------------


def _number(x: Any, what: str, *, low: float = 0.0, high: float, low_ok: bool = False,
            integer: bool = False) -> float | int:
    """Coerce and range-check one numeric input; `what` names it in the error message."""
    if isinstance(x, bool) or x is None:
        raise ToolInputError(f"{what}必须是数字，收到：{x!r}")
    if isinstance(x, str):
        try:
            x = float(x.strip().replace(",", ""))
        except ValueError:
            raise ToolInputError(f"{what}必须是数字，收到：{x!r}") from None
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ToolInputError(f"{what}必须是数字，收到：{x!r}") from None
    if not math.isfinite(v):
        raise ToolInputError(f"{what}必须是有限的数字，收到：{x!r}")
    if integer and not v.is_integer():
        raise ToolInputError(f"{what}必须是整数，收到：{_fmt(v)}")
    if v < low or (v == low and not low_ok):
        raise ToolInputError(f"{what}必须{'不小于' if low_ok else '大于'}{_fmt(low)}，收到：{_fmt(v)}")
    if v > high:
        raise ToolInputError(f"{what}超出合理范围（最大{_fmt(high)}），收到：{_fmt(v)}")
    return int(v) if integer else v


def _text(x: Any) -> str | None:
    """Blank → None; otherwise simplified, without spaces."""
    if x is None:
        return None
    s = "".join(t2s(str(x)).split())
    return s or None


def _fmt(v: float) -> str:
    """A number as people write it: no trailing zeros, never scientific notation, at most four decimals."""
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.4f}".rstrip("0").rstrip(".")


def fmt_money(yuan: float | Decimal) -> str:
    """In 万元 when exact to the 百元 (amounts of at least one 万元), else in 元 to the fen."""
    d = Decimal(str(yuan))
    if abs(d) >= 10000:
        wan = d / 10000
        if wan == wan.quantize(Decimal("0.01")):
            return f"{_fmt(float(wan))}万元"
    return f"{_fmt(float(d.quantize(Decimal('0.01'), ROUND_HALF_UP)))}元"


# Ranks, normalised to the titles documents set quotas by (…以下 / 一级 / 高级). Since the 2015 reform primary
# and secondary teachers share the titles 高级/一级/二级/三级, so 小学X级 is read as the same-named 中学X级.
_RANKS = {
    "中学高级": "中学高级", "高级": "中学高级", "小学高级": "中学高级", "副高级": "中学高级", "副高": "中学高级",
    "中学一级": "中学一级", "一级": "中学一级", "小学一级": "中学一级",
    "中学一级以下": "中学一级以下", "一级以下": "中学一级以下", "小学一级以下": "中学一级以下",
    "中学二级": "中学一级以下", "中学三级": "中学一级以下", "二级": "中学一级以下", "三级": "中学一级以下",
    "小学二级": "中学一级以下", "小学三级": "中学一级以下", "未定级": "中学一级以下", "见习": "中学一级以下",
}
_UNCOVERED_RANKS = {"正高级", "中学正高级", "小学正高级", "正高"}
_ROLES = {
    "学校领导": "学校领导", "校领导": "学校领导", "学校领导班子": "学校领导", "校长": "学校领导",
    "副校长": "学校领导", "书记": "学校领导", "党支部书记": "学校领导", "分管校长": "学校领导",
    "分管教学教研工作的处室干部": "分管教学教研工作的处室干部", "处室干部": "分管教学教研工作的处室干部",
    "分管教学教研的处室干部": "分管教学教研工作的处室干部", "教务主任": "分管教学教研工作的处室干部",
    "教研主任": "分管教学教研工作的处室干部", "教导主任": "分管教学教研工作的处室干部",
    "教务处": "分管教学教研工作的处室干部", "教研处": "分管教学教研工作的处室干部",
    "教务处干部": "分管教学教研工作的处室干部", "教研处干部": "分管教学教研工作的处室干部",
    "中层干部": "分管教学教研工作的处室干部",
}
