"""What a person sees of a page in Chromium: whether its Chinese renders (no tofu: missing-glyph
boxes) and whether any table cell is squeezed narrower than its text can be read; screenshots
kept as test artefacts under tests/artefacts/ (git-ignored)."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ARTEFACTS = Path(__file__).resolve().parent / "artefacts"

# Each distinct Han character of the page (up to `limit`) drawn in its element's font on a
# canvas, against a code point no font has (U+0378 is unassigned): a character whose bitmap is
# the missing glyph's is tofu.
_TOFU_JS = r"""([selector, limit]) => {
  const root = document.querySelector(selector) || document.body;
  const han = /\p{Script=Han}/u;
  const fonts = new Map();
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode() && fonts.size < limit) {
    const node = walker.currentNode;
    const family = getComputedStyle(node.parentElement).fontFamily;
    for (const ch of node.data) {
      if (han.test(ch) && !fonts.has(ch)) fonts.set(ch, family);
      if (fonts.size >= limit) break;
    }
  }
  const canvas = document.createElement("canvas");
  canvas.width = 64; canvas.height = 64;
  const ctx = canvas.getContext("2d", {willReadFrequently: true});
  const bitmap = (ch, family) => {
    ctx.clearRect(0, 0, 64, 64);
    ctx.font = "40px " + family;
    ctx.textBaseline = "top";
    ctx.fillStyle = "#000";
    ctx.fillText(ch, 4, 4);
    const alpha = ctx.getImageData(0, 0, 64, 64).data.filter((_, i) => i % 4 === 3);
    return Array.from(alpha).join(",");
  };
  const tofu = [];
  const seen = new Set();
  for (const [ch, family] of fonts) {
    const drawn = bitmap(ch, family);
    if (drawn === bitmap("\u0378", family)) tofu.push(ch);
    seen.add(drawn);
  }
  return {checked: fonts.size, distinct: seen.size, tofu: tofu};
}"""

# Every visible table cell with text: its content width against the width its text needs on
# one line, up to `minChars` characters of its font size. A cell narrower than that is
# squeezed (a 发文机关 wrapped one character a line).
_SQUEEZED_JS = r"""(minChars) => {
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d");
  const out = [];
  for (const cell of document.querySelectorAll("td, th")) {
    const text = cell.innerText.trim();
    const box = cell.getBoundingClientRect();
    if (!text || box.width === 0 || box.height === 0) continue;
    const style = getComputedStyle(cell);
    const size = parseFloat(style.fontSize);
    ctx.font = style.font;
    const longest = Math.max(...text.split(/\n/).map(line => ctx.measureText(line.trim()).width));
    const content = box.width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const need = Math.min(longest, minChars * size);
    if (content + 1 < need) {
      out.push({text: text.slice(0, 40), width: Math.round(content), need: Math.round(need)});
    }
  }
  return out;
}"""


def launch(playwright):
    """The system Chromium, launched as the crawler launches it."""
    from crawlers.engine.settings import PLAYWRIGHT_LAUNCH_OPTIONS

    if not Path("/usr/bin/chromium").exists():
        raise AssertionError("/usr/bin/chromium is missing: .ci/setup installs it")
    return playwright.chromium.launch(**PLAYWRIGHT_LAUNCH_OPTIONS)


def tofu(page, selector: str = "body", limit: int = 60) -> dict:
    """``{"checked": n, "distinct": k, "tofu": [characters drawn as the missing glyph]}`` for
    the Han characters under ``selector``."""
    return page.evaluate(_TOFU_JS, [selector, limit])


def assert_no_tofu(page, selector: str = "body") -> dict:
    found = tofu(page, selector)
    assert found["checked"] >= 2, f"no Chinese text to check under {selector}: {found}"
    assert not found["tofu"], f"drawn as missing glyphs: {''.join(found['tofu'])}"
    # Tofu boxes all look alike: distinct characters must draw distinctly.
    assert found["distinct"] == found["checked"], found
    return found


def squeezed(page, min_chars: int = 3) -> list[dict]:
    """The visible table cells narrower than their text needs (at most ``min_chars`` wide)."""
    return page.evaluate(_SQUEEZED_JS, min_chars)


def screenshot(page, name: str) -> Path:
    """A full-page screenshot kept as tests/artefacts/<name>.png."""
    ARTEFACTS.mkdir(exist_ok=True)
    path = ARTEFACTS / (re.sub(r"[^\w.-]+", "-", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000, f"{path} is nearly empty"
    return path


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def browse_server(corpus: Path, repo: Path, *args: str) -> Iterator[str]:
    """``policywatch browse`` on ``corpus`` as a user starts it (a process on 127.0.0.1), until
    the block ends; yields its base URL. ``args``: more of the command line (``--config F``)."""
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "scheduler", "browse", "--db", str(corpus), "--port", str(port),
         *args],
        cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=10).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    raise AssertionError(f"policywatch browse did not start:\n{process.stdout.read()}")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
