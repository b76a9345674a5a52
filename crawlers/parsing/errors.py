"""The error every detail-page parser raises for bytes that are not a policy document."""

from __future__ import annotations


class ParseError(ValueError):
    """The bytes are not a policy document page; ``reason`` is a short machine-readable code
    (``empty``, ``truncated``, ``binary``, ``blocked``, ``error_page``, ``no_title``, ``no_body``...)."""

    def __init__(self, reason: str, message: str):
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
