"""江西省生态环境厅 (sthjt.jiangxi.gov.cn): lists carried as script data (``var listData``)."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="jx_sthjt",
    name="江西省生态环境厅",
    division_code="360000",
    level="province",
    family="scripted",
    domains=("sthjt.jiangxi.gov.cn",),
    columns=(
        # The served HTML already holds the records in `var listData = {articleList: [...]}`,
        # so plain HTTP is enough; pages go by ?uid=<jpage unit>&pageNum=N.
        Column(
            name="政策法规解读·以案释法",
            url="https://sthjt.jiangxi.gov.cn/jxssthjt/col/col42150/index.html",
            params={
                "var": "listData",
                "records": "articleList",
                "title": "title",
                "url": "urls.pc",
                "date": "pubDate",
                "page_url": "index.html?uid=380055&pageNum={page}",
                "total": "channelsTagSelf.articleCount",
            },
        ),
    ),
    politeness=Politeness(concurrency=1, delay=2.0),
    needs_browser=False,
    evidence=(
        "realpages sthjt.jiangxi.gov.cn_list_1.html (list: listData.articleList, params.perPage, "
        "channelsTagSelf.articleCount); family layout (detail, not saved)"
    ),
    verified_on="2026-11-22",
)
