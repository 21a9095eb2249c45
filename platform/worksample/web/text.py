"""Text from users: one-line values refused with control characters at input;
bidirectional controls in names from archives made visible where shown.

A line break in a position's title reached an email's Subject and crashed the
invitation; a right-to-left override in a file name shows `evil\u202egpj.py`
as "evilyp.jpg". Both are characters nobody types into a title or a name.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

# Embeddings, overrides, isolates and marks: they reorder what is shown.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _unwanted(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in BIDI_CONTROLS


def check_one_line(value: str) -> str:
    """`value` stripped; a ValueError naming the character if it holds a control
    character (line breaks and tabs included) or a bidirectional control."""
    for char in value:
        if _unwanted(char):
            raise ValueError(
                f"must be one line of plain text: it holds the control character "
                f"U+{ord(char):04X} ({unicodedata.name(char, 'control')})"
            )
    return value.strip()


OneLine = Annotated[str, AfterValidator(check_one_line)]


def visible(value: object) -> str:
    """For showing a name that came from outside (an archive member, an upload's
    file name, a message quoting them): control and bidirectional characters as
    `\\u202e`-style escapes, so that what is shown is what is there."""
    text = "" if value is None else str(value)
    if not any(_unwanted(char) for char in text):
        return text
    return "".join(
        f"\\u{ord(char):04x}" if _unwanted(char) and char not in "\n\t" else char for char in text
    )


def header_safe(value: str) -> str:
    """A value for an email header: every control character a space (the last
    line of defence; input is checked with `OneLine`)."""
    return "".join(" " if _unwanted(char) else char for char in value).strip()
