"""A CMS family is registered once: its adapter class carries its name, its detection priority
and its clues, and site validation, the adapter lookup and detect all read the registry."""

from __future__ import annotations

from typing import Sequence

import pytest

from crawlers.families import Family, family_names, get_family, register, unregister
from crawlers.families.clues import Clue, SeenPage
from crawlers.sites.declared import site_from_table
from crawlers.sites.spec import Column, Site, SiteSpecError
from crawlers.tools.detect import OK, choose, detect_column, page_clues, recognise, render

NAME = "examplecms"
COLUMN_URL = "http://www.example-gov.cn/zcwj/index.html"
# An invented CMS: its pages carry a generator meta tag, and its lists are plain dated links.
COLUMN_PAGE = ("""<html><head><meta name="generator" content="ExampleCMS 3.1">
<title>政策文件_示例市人民政府</title></head><body><ul class="excms-list">"""
               + "".join(f'<li><a href="/zcwj/2024/doc_{n}.html">示例市关于第{n}项工作的通知</a>'
                         f"<span>2024-05-{n:02d}</span></li>" for n in range(1, 6))
               + "</ul></body></html>").encode("utf-8")


class ExampleCmsFamily(Family):
    """A throwaway adapter: the family is this class and nothing else."""

    name = NAME
    priority = 5
    list_items = ("ul.excms-list > li",)

    def page_clues(self, page: SeenPage, earlier: Sequence[Clue]) -> list[Clue]:
        if page.is_html and "ExampleCMS" in page.html:
            return [Clue(self.name, 9, "the generator meta tag says ExampleCMS")]
        return []


def site(family: str) -> Site:
    return Site(key="example_zcwj", name="示例市人民政府", division_code="429004", level="prefecture",
                family=family, domains=("www.example-gov.cn",),
                columns=(Column(name="政策文件", url=COLUMN_URL),))


@pytest.fixture
def registered():
    register(ExampleCmsFamily)
    try:
        yield
    finally:
        unregister(NAME)


def test_an_unregistered_family_is_refused_by_the_spec():
    assert NAME not in family_names()
    with pytest.raises(SiteSpecError, match=f"family: '{NAME}' is not one of trs, "):
        site(NAME)
    with pytest.raises(KeyError, match=f"unknown CMS family '{NAME}'"):
        get_family(NAME)


def test_a_family_declared_once_is_accepted_looked_up_and_detected(registered):
    assert NAME in family_names()
    assert site(NAME).family == NAME
    assert isinstance(get_family(NAME), ExampleCmsFamily)
    table = {"key": "example_zcwj", "issuer": "示例市人民政府", "name": "政策文件", "url": COLUMN_URL,
             "family": NAME, "division_code": "429004", "level": "prefecture"}
    assert site_from_table(table, "pw.toml", 0).family == NAME

    recognition = recognise(COLUMN_URL, COLUMN_PAGE)
    assert recognition.family == NAME
    assert recognition.reasons() == ["the generator meta tag says ExampleCMS"]

    detection = detect_column(COLUMN_URL, body=COLUMN_PAGE)
    assert detection.family == NAME
    assert len(detection.listing.entries) == 5
    assert detection.site.family == NAME
    report = render(detection)
    assert f"family: {NAME}" in report and f'family = "{NAME}"' in report
    assert detection.verdict == OK, detection.notes


def test_a_tie_goes_to_the_family_of_higher_priority(registered):
    # TRS's pager (8) and editor body (6) against ExampleCMS' generator tag (9) and a second
    # clue (5): equal totals, and ExampleCMS declares the more specific evidence (5 < trs's 60).
    trs_page = (b'<div class="TRS_Editor"></div><script>createPageHTML(3, 0, "index", "html");</script>'
                + COLUMN_PAGE)
    clues = page_clues(COLUMN_URL, trs_page) + [Clue(NAME, 5, "a second ExampleCMS clue")]
    totals = {f: sum(c.weight for c in clues if c.family == f) for f in (NAME, "trs")}
    assert totals == {NAME: 14, "trs": 14}
    assert choose(clues) == NAME
    assert choose([c for c in clues if c.family == "trs"]) == "trs"


def test_a_name_is_registered_once():
    with pytest.raises(ValueError, match="CMS family 'trs' is registered twice"):
        register(type("OtherTrs", (Family,), {"name": "trs"}))
    with pytest.raises(ValueError, match="must be ASCII snake_case"):
        register(type("Nameless", (Family,), {}))
    assert type(get_family("trs")).__name__ == "TRSFamily"
