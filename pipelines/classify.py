"""ClassifyPipeline: tag each document (relevance, content, issuer, type and status) before it
is stored, through ``classifiers.classify``; the store writes the tags with the document.

Relevance reads the title, the extracted body and the attachments' text, never the page's
furniture (the parsers leave it out). The site's jurisdiction (``Site.division_code``)
resolves issuers named only by their department.

A document the classifier cannot tag is stored untagged (counted as
``policywatch/classify/failed``), not dropped: losing a policy document is worse than tagging
it late, and ``policywatch retag`` tags every document without a current classification.
"""

from __future__ import annotations

import logging

from classifiers.classify import ClassifyError, Document, classify
from crawlers.items import PolicyItem
from crawlers.items.sitecrawls import stats_for
from pipelines.attachments import site_for

logger = logging.getLogger(__name__)

STAT = "policywatch/classify/{what}"


def document_for(item: PolicyItem, site=None):
    """The classifier's view of an item: title, text, attachment texts, issuer, site."""

    attachments = tuple(a.text for a in item.attachments if (a.text or "").strip())
    return Document(
        title=item.title, text=item.body_text or "", issuer=item.issuer, attachments=attachments,
        published_date=item.published_date, site=item.site,
        site_division=getattr(site, "division_code", None), site_level=getattr(site, "level", None),
        validity=getattr(item, "validity", None),
    )


class ClassifyPipeline:
    """Put ``classifiers.classify.classify(item).columns()`` on ``item.classification``."""

    def __init__(self, crawler=None):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        if not isinstance(item, PolicyItem):
            return item

        site = site_for(self.crawler, item.site) if self.crawler is not None and item.site else None
        try:
            result = classify(document_for(item, site))
        except ClassifyError as exc:
            self._count("failed", item)
            logger.warning("not classified: %s: %s", item.url, exc)
            return item
        item.classification = result.columns()
        self._count(result.relevance, item)
        return item

    def _count(self, what: str, item: PolicyItem) -> None:
        if self.crawler is not None:
            stats_for(self.crawler, item.site).inc_value(STAT.format(what=what))
