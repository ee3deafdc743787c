"""Colours that stay readable: the text on the brand colour, and links in the brand
colour only where they keep a 4.5:1 contrast (WCAG AA)."""

from __future__ import annotations

import re

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
AA = 4.5
WHITE = "#ffffff"
INK = "#111827"
BLACK = "#000000"
LIGHT_PAGE = "#ffffff"  # Pico's page backgrounds, light and dark
DARK_PAGE = "#13171f"
LINK_ON_LIGHT = "#0f4c81"
LINK_ON_DARK = "#8cb8ff"


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]  # noqa: PLR2004 - the sRGB formula's constants
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    high, low = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def ink_on(background: str) -> str:
    """White or near-black, whichever reads better on ``background`` (black for the mid
    tones where near-black falls short: white or black always reaches 4.5:1)."""
    if contrast(background, WHITE) >= contrast(background, INK):
        return WHITE
    return INK if contrast(background, INK) >= AA else BLACK


def link_colour(brand: str, page: str, fallback: str) -> str:
    """The brand colour for links on ``page`` when it is readable there, else ``fallback``."""
    return brand if contrast(brand, page) >= AA else fallback


def brand_palette(brand: str) -> dict[str, str]:
    return {
        "brand": brand,
        "brand-ink": ink_on(brand),
        "brand-link": link_colour(brand, LIGHT_PAGE, LINK_ON_LIGHT),
        "brand-link-dark": link_colour(brand, DARK_PAGE, LINK_ON_DARK),
    }
