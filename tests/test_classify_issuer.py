"""Issuer resolution through the GB/T 2260 gazetteer: names, ranks, regions, tiers, the site's
jurisdiction for department-only names, and names that hold no place."""

from __future__ import annotations

import pytest

from classifiers.gazetteer import city_tier, gazetteer, region_of_province
from classifiers.issuer import resolve_issuer


def test_the_gazetteer_is_the_whole_division_list():
    gaz = gazetteer()
    ranks = [d.rank for d in gaz.by_code.values()]
    assert ranks.count("province") == 34  # 23 provinces, 5 regions, 4 municipalities, HK, Macao
    assert ranks.count("prefecture") > 330 and ranks.count("county") > 2800
    assert gaz.get("420100").name == "武汉市" and gaz.get("429004").name == "仙桃市"
    assert all(len(code) == 6 and code.isdigit() for code in gaz.by_code)


@pytest.mark.parametrize("issuer, level, region, province, city, county, tier", [
    # The examples.
    ("上海市徐汇区发展和改革委员会", "prefecture", "华东", "上海市", "上海市", "徐汇区", "一线"),
    ("厦门市工业和信息化局 厦门市大数据管理局", "prefecture", "华东", "福建省", "厦门市", None, "其他"),
    ("山东省工业和信息化厅等七部门", "province", "华东", "山东省", None, None, None),
    ("西藏", "province", "西南", "西藏自治区", None, None, None),
    ("横琴粤澳深度合作区执行委员会", "prefecture", "华南", "广东省", "珠海市", "横琴粤澳深度合作区", "其他"),
    # TAXONOMY.md §3: 直辖市 departments are provinces, their districts prefectures.
    ("北京市经济和信息化局", "province", "华北", "北京市", "北京市", None, "一线"),
    ("上海市经济和信息化委员会", "province", "华东", "上海市", "上海市", None, "一线"),
    ("北京市通州区人民政府", "prefecture", "华北", "北京市", "北京市", "通州区", "一线"),
    ("重庆市渝北区人民政府", "prefecture", "西南", "重庆市", "重庆市", "渝北区", "新一线"),
    # Districts and zones of ordinary cities are counties.
    ("无锡市滨湖区人民政府", "county", "华东", "江苏省", "无锡市", "滨湖区", "其他"),
    ("深圳市福田区工业和信息化局", "county", "华南", "广东省", "深圳市", "福田区", "一线"),
    ("沈阳市和平区人民政府", "county", "东北", "辽宁省", "沈阳市", "和平区", "其他"),
    ("广州开发区管委会", "county", "华南", "广东省", "广州市", "广州开发区", "一线"),
    ("南京江宁高新区管委会", "county", "华东", "江苏省", "南京市", "江宁区", "新一线"),
    ("武汉东湖新技术开发区管委会", "county", "华中", "湖北省", "武汉市", "武汉东湖新技术开发区", "新一线"),
    # Sub-provincial cities are prefectures; autonomous prefectures by their short name.
    ("武汉市人民政府", "prefecture", "华中", "湖北省", "武汉市", None, "新一线"),
    ("恩施州人民政府", "prefecture", "华中", "湖北省", "恩施土家族苗族自治州", None, "其他"),
    ("中共武汉市委宣传部", "prefecture", "华中", "湖北省", "武汉市", None, "新一线"),
    ("宁夏回族自治区发展和改革委员会", "province", "西北", "宁夏回族自治区", None, None, None),
    ("仙桃市人民政府", "county", "华中", "湖北省", "仙桃市", "仙桃市", "其他"),
    # A department name that holds a county's short name is still the province's (公安县).
    ("湖北省公安厅", "province", "华中", "湖北省", None, None, None),
    ("荆州市公安局", "prefecture", "华中", "湖北省", "荆州市", None, "其他"),
])
def test_issuer_names_resolve(issuer, level, region, province, city, county, tier):
    info = resolve_issuer(issuer)
    got = (info.level, info.region, info.province, info.city, info.county, info.city_tier)
    assert got == (level, region, province, city, county, tier)
    assert info.source == "issuer" and not info.notes


@pytest.mark.parametrize("issuer", ["国务院", "国务院办公厅", "工业和信息化部", "工业和信息化部等五部门",
                                    "国家发展改革委 工业和信息化部", "国家能源局", "中国人民银行"])
def test_the_central_government_is_national(issuer):
    info = resolve_issuer(issuer)
    assert info.level == "national" and info.region is None and info.province is None


def test_department_only_issuers_take_the_sites_jurisdiction():
    wuhan = resolve_issuer("市经济和信息化局", site_division="420100", site_level="prefecture")
    assert (wuhan.level, wuhan.province, wuhan.city, wuhan.source) == ("prefecture", "湖北省", "武汉市", "site")
    office = resolve_issuer("高技术处", site_division="620000", site_level="province")
    assert (office.level, office.province, office.region) == ("province", "甘肃省", "西北")
    national = resolve_issuer("办公厅", site_division="100000", site_level="national")
    assert national.level == "national"


def test_a_same_named_district_is_the_one_in_the_sites_jurisdiction():
    beijing = resolve_issuer("朝阳区人民政府", site_division="110000", site_level="province")
    assert (beijing.province, beijing.county, beijing.level) == ("北京市", "朝阳区", "prefecture")
    changchun = resolve_issuer("朝阳区人民政府", site_division="220100", site_level="prefecture")
    assert (changchun.province, changchun.city, changchun.level) == ("吉林省", "长春市", "county")


def test_the_title_names_the_issuer_when_the_issuer_field_does_not():
    info = resolve_issuer(None, title="江西省人民政府办公厅关于加快推进虚拟现实产业发展的实施意见")
    assert (info.level, info.province, info.source) == ("province", "江西省", "title")


def test_an_unknown_place_is_said_and_falls_back_to_the_site():
    info = resolve_issuer("示例市人民政府", site_division="429004", site_level="county")
    assert (info.level, info.province, info.city) == ("county", "湖北省", "仙桃市")
    assert info.notes == ["issuer '示例市人民政府' names no known place"]
    alone = resolve_issuer("某某县人民政府")
    assert alone.level is None and alone.province is None
    assert "names no known place" in alone.notes[0]


def test_no_issuer_and_no_site_is_an_answer_not_an_error():
    info = resolve_issuer(None)
    assert info.level is None and info.notes == ["no issuer and no site: jurisdiction unknown"]
    unknown_code = resolve_issuer("", site_division="999999")
    assert "not in the gazetteer" in unknown_code.notes[0]


def test_regions_and_tiers_follow_the_taxonomy():
    assert region_of_province("湖北省") == "华中" and region_of_province("61") == "西北"
    assert region_of_province("香港特别行政区") is None
    assert city_tier("深圳市") == "一线" and city_tier("东莞") == "新一线"
    assert city_tier("保定市") == "其他" and city_tier(None) is None
