import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REALPAGES = Path(os.environ.get("POLICYWATCH_REALPAGES", REPO.parent / "shared" / "realpages"))

# The longest modules (real crawls killed and resumed, Redis workers, pages at the 8 MB cap,
# rounds of many portals, the demo's week), longest first. On several workers (`-n auto --dist
# loadfile --no-loadscope-reorder`, as .ci/run runs the suite) each worker takes whole modules
# in collection order: these go first, so that no long module starts when the others are done.
LONGEST_FIRST = (
    "test_distributed.py", "test_resume.py", "test_hostile_pages.py", "test_round.py",
    "test_e2e_replay.py", "test_e2e_interpretations.py", "test_progress.py", "test_incremental.py",
    "test_demo_days.py", "test_cli.py", "test_schedule.py", "test_backfill.py", "test_health.py",
    "test_parse_pool.py", "test_browse_interpretations.py", "test_volatile_attachments.py",
)


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist, the modules of LONGEST_FIRST first (the order within a module and of
    the other modules kept); a run on one process keeps pytest's order."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture
def realpages() -> Path:
    """../shared/realpages, or skip the test when it is absent."""
    if not REALPAGES.is_dir():
        pytest.skip(f"real pages not present at {REALPAGES}")
    return REALPAGES


@pytest.fixture(scope="module")
def browser():
    """The system's Chromium, headless, for one module's real-browser tests."""
    from playwright.sync_api import sync_playwright

    from tests.pagecheck import launch

    with sync_playwright() as p:
        chromium = launch(p)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A desktop-sized page of that browser."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    yield page
    page.close()
