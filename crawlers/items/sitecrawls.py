"""What the pipelines know of the sites a crawler crawls: each site's signals, the site of a
request, and each site's counters.

A crawl process runs one Scrapy crawler whose spider crawls many sites
(``crawlers.engine.spiders.policy``); Scrapy's ``spider_opened``/``spider_closed`` mark the
process, these mark each site. The pipelines and extensions connect to them with
``crawler.signals.connect(handler, signal=site_opened)``.

- ``site_opened(crawl)``: the site's crawl starts (before its first request). ``crawl`` is its
  ``crawlers.engine.spiders.sitecrawl.SiteCrawl``: ``.site``, ``.mode``, ``.stats`` (the site's
  own counters), ``.failures``, ``.observations``.
- ``site_closed(crawl, reason)``: every request, item and refusal of the site is settled
  (``reason`` ``finished``), or the process is stopping (Scrapy's close reason). Handlers record
  the site's run here; its report is taken after them.
"""

site_opened = object()
site_closed = object()

SITE_META = "policywatch_site"  # request.meta: the key of the site the request is for


def stats_for(crawler, site_key: str | None):
    """The counters of the site ``site_key`` in ``crawler``'s spider (its ``stats_of``), or the
    crawler's own when the spider keeps none for it (another spider, a site already ended)."""
    of = getattr(getattr(crawler, "spider", None), "stats_of", None)
    stats = of(site_key) if of is not None and site_key else None
    return stats if stats is not None else crawler.stats


def site_of(crawler, site_key: str | None):
    """The running ``Site`` with this key in ``crawler``'s spider (its ``site_of``, or the
    ``site`` of a spider that crawls one), or None."""
    spider = getattr(crawler, "spider", None)
    of = getattr(spider, "site_of", None)
    if of is not None:
        return of(site_key) if site_key else None
    own = getattr(spider, "site", None)
    return own if getattr(own, "key", None) == site_key and site_key else None


def sends_site_signals(spider) -> bool:
    """Does ``spider`` (policywatch's ``PolicySpider``) say when each site's crawl starts and
    ends? Another spider (a test's, a tool's) is one crawl of one site, from open to close."""
    return hasattr(spider, "stats_of")
