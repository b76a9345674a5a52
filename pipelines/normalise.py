"""NormalisePipeline: tidy a parsed item's text and drop items that cannot be documents."""

from __future__ import annotations

from crawlers.items import PolicyItem
from crawlers.items.sitecrawls import stats_for
from crawlers.parsing.textnorm import clean_text, clean_title
from pipelines.dropping import drop

# Metadata fields that are one line of text; empty strings become None.
_SHORT_FIELDS = ("doc_number", "issuer", "index_no", "topic", "validity", "column")


class NormalisePipeline:
    """Clean body text for readers (whitespace, invisible characters; punctuation kept as
    written), put titles and metadata on one line, and drop items without a URL or title."""

    def __init__(self, stats=None, crawler=None):
        self.stats = stats
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats, crawler)

    def process_item(self, item):
        if not isinstance(item, PolicyItem):
            return item
        stats = stats_for(self.crawler, item.site) if self.crawler is not None else self.stats
        item.url = (item.url or "").strip()
        if not item.url:
            drop(stats, "no_url", "the item has no URL")
        item.title = clean_title(item.title)
        if not item.title:
            drop(stats, "no_title", f"{item.url} has no title")
        item.body_text = clean_text(item.body_text)
        for name in _SHORT_FIELDS:
            setattr(item, name, clean_title(getattr(item, name)) or None)
        for attachment in item.attachments:
            attachment.url = attachment.url.strip()
            attachment.name = clean_title(attachment.name)
        return item
