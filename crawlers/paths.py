"""Where policywatch keeps its files when nobody says otherwise."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """``$POLICYWATCH_HOME``, else ``$XDG_DATA_HOME/policywatch``, else ~/.local/share/policywatch."""
    if os.environ.get("POLICYWATCH_HOME"):
        return Path(os.environ["POLICYWATCH_HOME"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "policywatch"


def default_db(home: Path | None = None) -> Path:
    """The corpus the real crawls write to, when the config names none."""
    return (home or data_dir()) / "corpus.db"


def demo_db(home: Path | None = None) -> Path:
    """The demo's own corpus, apart from the real one."""
    return (home or data_dir()) / "demo.db"
