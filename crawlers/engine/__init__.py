"""The crawl engine: the spider, its Scrapy settings and middlewares, the parse pool, rounds of
crawls and the distributed crawl. It reaches the pipelines only through Scrapy's dotted names."""
