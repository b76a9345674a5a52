"""Who issued a document, and where: level, region, province, city, county and city tier.

The issuer's name is read from its start, division by division (province, then prefecture, then
county), through the gazetteer; joint issuers count at the highest rank among them. A name that
holds no place — a department (市经济和信息化局, 高技术处) — takes the jurisdiction of the site
that published it (``Site.division_code``), then of the title's own issuer prefix. Ranks follow
TAXONOMY.md §3: the 直辖市 and their departments are ``province``, their districts
``prefecture``; districts and development zones of ordinary cities ``county``; the State Council
and the ministries ``national``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from classifiers.gazetteer import NATIONAL_CODE, Division, Gazetteer, city_tier, gazetteer

LEVELS = ("national", "province", "prefecture", "county")
_RANK_ORDER = {"national": 0, "province": 1, "prefecture": 2, "county": 3}

# Joint issuers are written one after another, separated by spaces or 、，; 等七部门 closes them.
_SPLIT = re.compile(r"[\s、，,；;/|]+")
_JOINT_TAIL = re.compile(r"(?:等[一二三四五六七八九十两\d]*个?(?:部门|单位|部委))+$")
_PARTY_PREFIX = re.compile(r"^(?:中共|中国共产党)")
_BRACKETED = re.compile(r"[（(【\[][^）)】\]]*[）)】\]]")

# The central government: the State Council, its ministries, commissions and bureaus.
_NATIONAL = re.compile(
    r"^(?:国务院|中共中央|中央|全国人大|全国人民代表大会|全国|国家|最高人民|中国人民银行|海关总署|"
    r"中国证券监督管理委员会|中国证监会|中国银行保险监督管理委员会|中国银保监会|中国气象局|"
    r"中国民用航空局|中国科学院|中国工程院|新华社)"
)
_MINISTRY = re.compile(r"^[\u4e00-\u9fff]{1,14}(?:部|部办公厅|部办公室|总署|总局)$")
# Names that start relative to the publishing portal's own jurisdiction: 省政府办公厅, 市经信局.
_RELATIVE = re.compile(r"^(?:自治区|省|市|州|盟|区|县|旗)")
# Development, high-tech and cooperation zones: they rank one below the city they are in.
_ZONE = re.compile(
    r"^[\u4e00-\u9fff]{0,10}?(?:高新技术产业开发区|经济技术开发区|经济开发区|高新区|开发区|经开区|"
    r"新区|合作区|示范区|自由贸易试验区|自贸区|保税区|试验区|实验区|产业园区|园区)"
)
# Zones GB/T 2260 does not list, with the division they sit in and the rank they count at.
SPECIAL_ZONES: dict[str, tuple[str, str]] = {
    "横琴粤澳深度合作区": ("440400", "prefecture"),  # in 珠海, run by Guangdong and Macao
    "雄安新区": ("130000", "prefecture"),  # Hebei's, above the counties it covers
}
# Where a title names its issuer: everything before 关于/印发/转发.
_TITLE_ISSUER = re.compile(r"^(.{2,40}?)(?:关于|印发|转发)")


@dataclass
class IssuerInfo:
    """The issuer's jurisdiction as the taxonomy counts it; ``source`` says what decided it
    (``issuer``, ``title``, ``site``) and ``notes`` what could not be resolved."""

    level: str | None = None
    region: str | None = None
    province: str | None = None
    city: str | None = None
    county: str | None = None
    city_tier: str | None = None
    division_code: str | None = None
    source: str | None = None
    evidence: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Place:
    """What one issuer name resolved to."""

    division: Division | None  # None for national
    level: str
    zone: str | None = None


def resolve_issuer(
    issuer: str | None, title: str | None = None, site_division: str | None = None,
    site_level: str | None = None,
) -> IssuerInfo:
    """Resolve the issuer of a document; never raises on odd input (it says so in ``notes``)."""
    gaz = gazetteer()
    site = gaz.get(site_division)
    notes: list[str] = []
    national_site = site_division == NATIONAL_CODE

    for source, text in (("issuer", issuer), ("title", _title_issuer(title))):
        if not (text or "").strip():
            continue
        place, relative = _resolve_names(gaz, text, site)
        if place is not None:
            return _info(gaz, place, source, text, notes)
        if relative and (site is not None or national_site):
            # A department named relative to the portal: 市经济和信息化局 on a Wuhan site.
            break
        if source == "issuer":
            notes.append(f"issuer {text.strip()!r} names no known place")

    if national_site:
        return _info(gaz, _Place(None, "national"), "site", site_division, notes)
    if site is not None:
        level = site_level if site_level in LEVELS else _division_level(site)
        return _info(gaz, _Place(site, level), "site", site_division, notes)
    if site_division:
        notes.append(f"site division code {site_division!r} is not in the gazetteer")
    if not (issuer or "").strip():
        notes.append("no issuer and no site: jurisdiction unknown")
    return IssuerInfo(notes=notes)


def _title_issuer(title: str | None) -> str | None:
    match = _TITLE_ISSUER.match((title or "").strip().lstrip("《"))
    return match.group(1) if match else None


def _resolve_names(gaz: Gazetteer, text: str, site: Division | None) -> tuple[_Place | None, bool]:
    """The highest-ranking place among joint issuers, and whether any name was relative."""
    best: _Place | None = None
    relative = False
    for part in _SPLIT.split(_BRACKETED.sub("", text)):
        part = _PARTY_PREFIX.sub("", _JOINT_TAIL.sub("", part.strip()))
        if len(part) < 2:
            continue
        place = _resolve_one(gaz, part, site)
        if place is None:
            relative = relative or bool(_RELATIVE.match(part))
            continue
        if best is None or _RANK_ORDER[place.level] < _RANK_ORDER[best.level]:
            best = place
    return best, relative


def _resolve_one(gaz: Gazetteer, name: str, site: Division | None) -> _Place | None:
    for zone, (code, level) in SPECIAL_ZONES.items():
        if zone in name[:len(zone) + 4]:  # 雄安新区, 河北雄安新区, 河北省雄安新区
            return _Place(gaz.by_code[code], level, zone)
    chain = _place_chain(gaz, name, site)
    if not chain:
        if _NATIONAL.match(name) or (_MINISTRY.match(name) and not _RELATIVE.match(name)):
            return _Place(None, "national")
        return None
    innermost, start, end = chain[-1]
    zone_match = _ZONE.match(name[end:])
    if zone_match and innermost.rank != "county":
        # A zone ranks one below the city it is in (a 直辖市's zones rank as its districts).
        level = "prefecture" if innermost.rank == "province" else "county"
        return _Place(innermost, level, name[start:end] + zone_match.group(0))
    return _Place(innermost, _division_level(innermost))


def _place_chain(gaz: Gazetteer, name: str, site: Division | None) -> list[tuple[Division, int, int]]:
    """Divisions named one after another from the start of ``name``: [(division, start, end)]."""
    chain: list[tuple[Division, int, int]] = []
    pos = 0
    while pos < len(name) and len(chain) < 3:
        outer = chain[-1][0] if chain else None
        found = None
        for matched, divisions in gaz.names_at(name, pos):
            candidates = [d for d in divisions
                          if _acceptable(gaz, d, matched, outer, name[pos + len(matched):])]
            chosen = _choose(gaz, candidates, site)
            if chosen is not None:
                found = (chosen, pos, pos + len(matched))
                break
        if found is None:
            break
        chain.append(found)
        pos = found[2]
    return chain


def _acceptable(gaz: Gazetteer, division: Division, matched: str, outer: Division | None,
                rest: str) -> bool:
    full = matched == division.name
    if outer is None:
        if division.rank == "county":
            # A bare county name is read only in full (朝阳区), or before a zone (江宁高新区):
            # short county names are common words (公安, 城区).
            return full or bool(_ZONE.match(rest))
        return True
    if not gaz.within(outer, division) or division.rank == outer.rank:
        return False
    if division.rank == "county":
        if outer.rank == "province" and division.parent != outer.code:
            return False  # a county is named after its prefecture, except directly-run ones
        return full or bool(_ZONE.match(rest))
    return True


def _choose(gaz: Gazetteer, candidates: list[Division], site: Division | None) -> Division | None:
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    # The same name in several provinces (朝阳区, 铁东区): the one in the site's jurisdiction.
    if site is not None:
        for scope in (site, gaz.get(site.province_code)):
            near = [d for d in candidates if gaz.within(scope, d)]
            if len(near) == 1:
                return near[0]
    ranks = sorted(candidates, key=lambda d: _RANK_ORDER[d.rank])
    if _RANK_ORDER[ranks[0].rank] < _RANK_ORDER[ranks[1].rank]:
        return ranks[0]  # 海南 the province before 海南 the prefecture of Qinghai
    return None


def _division_level(division: Division) -> str:
    if division.rank == "province":
        return "province"
    if division.rank == "prefecture" or division.in_municipality:
        return "prefecture"
    return "county"


def _info(gaz: Gazetteer, place: _Place, source: str, evidence: str | None,
          notes: list[str]) -> IssuerInfo:
    if place.division is None:
        return IssuerInfo(level="national", source=source, evidence=evidence, notes=notes,
                          division_code=NATIONAL_CODE)
    division = place.division
    province = gaz.province_of(division)
    city: Division | None = None
    county: Division | None = None
    if division.in_municipality:
        city = province  # 北京市 is both the province and the city of its districts
        county = division if division.rank == "county" else None
    elif division.rank == "prefecture":
        city = division
    elif division.rank == "county":
        county = division
        city = gaz.prefecture_of(division)
        if city is None and division.name.endswith("市"):
            city = division  # a county-level city run by its province (仙桃市)
    city_name = city.name if city else None
    return IssuerInfo(
        level=place.level,
        region=gaz.region(division),
        province=province.name if province else None,
        city=city_name,
        county=county.name if county else place.zone,
        city_tier=city_tier(city_name),
        division_code=division.code,
        source=source,
        evidence=evidence,
        notes=notes,
    )
