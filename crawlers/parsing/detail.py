"""Detail pages → PolicyItem: the metadata table, the <meta> tags, then the body.

STUB: the contract is fixed (DetailRules, ParseError, parse_detail_page); the implementation
is being written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Mapping

from ..items import PolicyItem


class ParseError(ValueError):
    """The bytes are not a policy document page; ``reason`` is a short machine-readable code
    (``empty``, ``truncated``, ``binary``, ``blocked``, ``error_page``, ``no_title``, ``no_body``...)."""

    def __init__(self, reason: str, message: str):
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class DetailRules:
    """Where a CMS family keeps things on its detail pages, as CSS selectors tried in order.

    Site overrides (``Site.selectors``) are put in front of the family's defaults.
    """

    title: tuple[str, ...] = ()
    content: tuple[str, ...] = ()
    metadata: tuple[str, ...] = ()
    # Elements that are page furniture inside or around the content (share bars, QR codes,
    # related links, print/close buttons); removed before the body text is taken.
    furniture: tuple[str, ...] = ()

    def with_overrides(self, selectors) -> "DetailRules":
        """These rules with a site's ``Selectors`` overrides tried first."""
        def front(value: str, defaults: tuple[str, ...]) -> tuple[str, ...]:
            return ((value,) + defaults) if value else defaults

        return replace(
            self,
            title=front(selectors.title, self.title),
            content=front(selectors.content, self.content),
            metadata=front(selectors.metadata, self.metadata),
        )


def parse_detail_page(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    site: str,
    rules: DetailRules = DetailRules(),
    fetched_at: datetime | None = None,
) -> PolicyItem:
    """Parse a detail page; raise ``ParseError`` for anything that is not a policy document."""
    raise NotImplementedError
