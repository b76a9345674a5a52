"""A document's classification columns, as the classifier stage (``pipelines.classify``) and
re-tagging fill them."""

from __future__ import annotations

from typing import Any, Mapping

import sqlite_utils

# The columns the classifier stage fills (classifiers.classify.Classification.columns()).
CLASSIFICATION_COLUMNS = (
    "relevance", "relevance_score", "scenarios", "measures", "techs", "level", "region",
    "province", "city", "county", "city_tier", "division_code", "doc_type", "status",
    "evidence", "classifier_version",
)


def write_classification(
    db: sqlite_utils.Database, document_id: int, columns: Mapping[str, Any] | None,
    only_if_stale: bool = False,
) -> bool:
    """Write a document's classification columns; call inside the writing transaction.

    ``only_if_stale`` leaves a document already tagged by the same classifier version alone.
    Returns whether a row was updated.
    """
    if not columns:
        return False
    unknown = set(columns) - set(CLASSIFICATION_COLUMNS)
    if unknown:
        raise ValueError(f"not classification columns: {', '.join(sorted(unknown))}")
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    sql = f"UPDATE documents SET {assignments} WHERE id = :id"
    if only_if_stale:
        sql += " AND classifier_version IS NOT :classifier_version"
    cursor = db.execute(sql, {**columns, "id": document_id,
                              "classifier_version": columns.get("classifier_version")})
    return cursor.rowcount > 0
