"""PooledClassifyPipeline: the classify stage with the classifier run in the crawl's process pool.

The classifier is CPU-bound (tens of milliseconds for a long document); in the reactor it would
hold up every download and use one core. This stage does exactly what ``ClassifyPipeline``
does — the same ``Document``, the same counts, an unclassifiable document stored untagged — but
awaits ``classifiers.classify.classify`` in a worker of ``crawlers.engine.parsepool``.
"""

from __future__ import annotations

import logging

from crawlers.items import PolicyItem
from crawlers.engine.parsepool import OffloadedWork

from pipelines.attachments import site_for
from pipelines.classify import ClassifyPipeline, document_for

logger = logging.getLogger(__name__)


class PooledClassifyPipeline(ClassifyPipeline):
    """``ClassifyPipeline`` with the classifying done in a worker process."""

    def __init__(self, crawler=None):
        super().__init__(crawler)
        self.offload = OffloadedWork.from_crawler(crawler) if crawler is not None else OffloadedWork(0)

    async def process_item(self, item):
        if not isinstance(item, PolicyItem):
            return item
        site = site_for(self.crawler, item.site) if self.crawler is not None and item.site else None
        outcome, first, second, forms = await self.offload.classify(document_for(item, site))
        item.body_forms = forms
        if outcome == "failed":
            self._count("failed")
            logger.warning("not classified: %s: %s", item.url, first)
            return item
        item.classification = first
        self._count(second)
        return item
