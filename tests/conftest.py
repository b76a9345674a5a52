import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REALPAGES = Path(os.environ.get("POLICYWATCH_REALPAGES", REPO.parent / "shared" / "realpages"))


@pytest.fixture
def realpages() -> Path:
    """../shared/realpages, or skip the test when it is absent."""
    if not REALPAGES.is_dir():
        pytest.skip(f"real pages not present at {REALPAGES}")
    return REALPAGES
