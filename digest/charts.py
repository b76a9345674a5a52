"""Bar charts for reports, as PNG and SVG, with Chinese labels drawn in a CJK font.

matplotlib draws a missing glyph as an empty box and only warns; here a missing glyph is an
error (``ChartError``), so a chart never ships with 口口口 instead of 专项政策. The font is found
among the installed ones (.ci/setup installs fonts-wqy-microhei); fonts installed after
matplotlib built its font cache are picked up from the system font folders.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

logger = logging.getLogger(__name__)

# Families that carry Chinese glyphs, smallest common install first.
CJK_FAMILIES = (
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC",
    "Source Han Sans SC", "Source Han Sans CN", "Droid Sans Fallback", "AR PL UMing CN",
    "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC",
)
# File names of those fonts, for when matplotlib's cache predates their installation.
CJK_FILE_HINTS = ("wqy", "notosanscjk", "notosanssc", "sourcehansans", "droidsansfallback",
                  "uming", "simhei", "msyh", "pingfang")
FORMATS = ("png", "svg")


class ChartError(RuntimeError):
    """A chart cannot be drawn as it must be (no CJK font, a glyph missing)."""


def find_cjk_font() -> str:
    """The name of an installed font family with Chinese glyphs; ChartError when there is none."""
    from matplotlib import font_manager

    def installed() -> set[str]:
        return {f.name for f in font_manager.fontManager.ttflist}

    names = installed()
    for family in CJK_FAMILIES:
        if family in names:
            return family
    for path in font_manager.findSystemFonts():
        if any(hint in Path(path).name.lower() for hint in CJK_FILE_HINTS):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError) as exc:
                logger.warning("cannot load font %s: %s", path, exc)
    names = installed()
    for family in CJK_FAMILIES:
        if family in names:
            return family
    raise ChartError(
        "no font with Chinese glyphs is installed: install fonts-wqy-microhei "
        "(apt-get install fonts-wqy-microhei; .ci/setup does) or fonts-noto-cjk"
    )


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    share: float  # 0..1


def _rc(font: str) -> dict:
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [font, "DejaVu Sans"],
        "axes.unicode_minus": False,  # CJK fonts often lack U+2212
        # Glyphs as paths: the SVG looks the same on a machine without the font.
        "svg.fonttype": "path",
        "svg.hashsalt": "policywatch",  # stable ids: the same report draws the same file
    }


def bar_chart(
    bars: Sequence[Bar], title: str, out_stem: Path, horizontal: bool = False,
    font: str | None = None,
) -> list[Path]:
    """Draw ``bars`` (label, count, share) as ``out_stem``.png and .svg; returns the paths.

    Raises ChartError when a glyph is missing from the font instead of drawing a box.
    """
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    font = font or find_cjk_font()
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    # A bracketed note (（dedicated）, （国家级或未标注）) on its own line keeps ticks apart.
    labels = [re.sub(r"(?<=.)（", "\n（", b.label) for b in bars]
    counts = [b.count for b in bars]
    notes = [f"{b.count}（{b.share:.1%}）" for b in bars]
    paths: list[Path] = []
    with rc_context(_rc(font)), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if horizontal:
            size = (8, max(2.5, 0.45 * len(bars) + 1.2))
        else:
            size = (max(6, 0.7 * len(bars) + 2), 4.5)
        fig = Figure(figsize=size)
        ax = fig.subplots()
        positions = list(range(len(bars)))
        if horizontal:
            drawn = ax.barh(positions, counts, color="#3b6ea8")
            ax.set_yticks(positions, labels)
            ax.invert_yaxis()  # the largest first, at the top
            ax.set_xlabel("政策文件数（件）")
            ax.margins(x=0.25)
        else:
            drawn = ax.bar(positions, counts, color="#3b6ea8")
            ax.set_xticks(positions, labels, rotation=45 if len(bars) > 8 else 0,
                          ha="right" if len(bars) > 8 else "center")
            ax.set_ylabel("政策文件数（件）")
            ax.margins(y=0.2)
        ax.bar_label(drawn, labels=notes, padding=3, fontsize=8)
        ax.set_title(title)
        ax.spines[["top", "right"]].set_visible(False)
        if not counts or max(counts) == 0:
            ax.set_ylim(0, 1) if not horizontal else ax.set_xlim(0, 1)
        fig.tight_layout()  # once for both formats (constrained layout re-solves per save)
        for fmt in FORMATS:
            path = out_stem.with_suffix(f".{fmt}")
            fig.savefig(path, format=fmt, dpi=150,
                        metadata={"Date": None} if fmt == "svg" else None)
            paths.append(path)
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    if missing:
        for path in paths:
            path.unlink(missing_ok=True)
        raise ChartError(f"chart {title!r}: {missing[0]} (font {font!r})")
    for w in caught:
        logger.debug("matplotlib: %s", w.message)
    return paths

