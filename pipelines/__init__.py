"""Item pipelines (one stage each) and the corpus they write.

Their order is ``ITEM_PIPELINES`` in ``crawlers.engine.settings``. Each stage drops what it cannot
handle with ``drop()``: a counted reason, never half a record.
"""
