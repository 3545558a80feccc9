"""The order Danish readers expect of names in a list: letters case- and accent-blind, Æ, Ø and Å
after Z, and numbers by their value ("Lærer 2" before "Lærer 10"). "Aa" stays two letters: a reader
looks for Aarhus among the A's, not after Å. Small enough not to need ICU (PyICU builds against the
system's libicu, which the image and scripts/install would then have to carry)."""

import re
import unicodedata

# After z in the code table, in the alphabet's order; the German and Swedish letters file with them.
_AFTER_Z = {"æ": "{", "ä": "{", "ø": "|", "ö": "|", "å": "}", "ü": "y"}
_NUMBER = re.compile(r"(\d+)")


def _letters(text: str) -> str:
    out = []
    for char in text:
        if char in _AFTER_Z:
            out.append(_AFTER_Z[char])
        else:  # é as e, ñ as n: the letter without its marks
            out.append("".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c)))
    return "".join(out)


def danish_key(text: str | None) -> tuple:
    """A sort key: text and numbers alternate (re.split keeps that), so each compares with its kind;
    the text itself breaks ties, so equal keys still sort the same way every time."""
    folded = unicodedata.normalize("NFC", (text or "").strip()).casefold()
    parts = _NUMBER.split(folded)
    return (tuple(int(p) if i % 2 else _letters(p) for i, p in enumerate(parts)), text or "")
