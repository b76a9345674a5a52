"""PooledClassifyPipeline: the classify stage with the classifier run in the crawl's process pool.

The classifier is CPU-bound (tens of milliseconds for a long document); in the reactor it would
hold up every download and use one core. This stage does exactly what ``ClassifyPipeline``
does — the same ``Document``, the same counts, an unclassifiable document stored untagged — but
awaits ``classifiers.classify.classify`` in a worker of the crawl's parse pool (the engine's
``ParsePool`` extension hands it over as ``crawler.policywatch_offload``).
"""

from __future__ import annotations

import logging

from crawlers.items import PolicyItem
from pipelines.attachments import offload_of, site_for
from pipelines.classify import ClassifyPipeline, document_for

logger = logging.getLogger(__name__)


class PooledClassifyPipeline(ClassifyPipeline):
    """``ClassifyPipeline`` with the classifying done in a worker process."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.offload = offload_of(crawler)

    async def process_item(self, item):
        if not isinstance(item, PolicyItem):
            return item
        site = site_for(self.crawler, item.site) if self.crawler is not None and item.site else None
        outcome, first, second, forms = await self.offload.classify(document_for(item, site))
        item.body_forms = forms
        if outcome == "failed":
            self._count("failed", item)
            logger.warning("not classified: %s: %s", item.url, first)
            return item
        item.classification = first
        self._count(second, item)
        return item
