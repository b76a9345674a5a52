"""Hostile inputs and injected faults, one module per area, for benchmarks/faults.py.

Each area module exposes ``CASES``: a list of :class:`FaultCase`. A case builds its input in a
scratch directory and feeds it through the real code path (the parser, the pool, the command);
``run`` returns a one-line outcome ("refused: bomb", "exit 1: …") and raises only when the
product misbehaves (a traceback, a wrong exit status, a document lost). faults.py runs each case
in its own process and measures its wall time and peak memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable


@dataclass(frozen=True)
class FaultCase:
    name: str  # short, unique across areas: "docx-xml-bomb", "corpus-truncated"
    what: str  # one line for the table: what was injected
    run: Callable[[Path], str]  # scratch dir -> outcome line; raises on misbehaviour
