"""Everything about portals and fetching them.

- portal knowledge: ``sites/`` (one module per portal), ``families/`` (one adapter per CMS
  family), ``parsing/`` (pure page parsers), ``items`` (what a crawl produces, and its wire codec);
- ``engine/``: the spider, its Scrapy settings and middlewares, the parse pool, rounds and the
  distributed crawl;
- ``tools/``: the maintainers' tools (detect, probe, watch, fixtures, the site list);
- ``replay/``: the local replay portal and the demo's days.
"""
