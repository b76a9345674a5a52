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
