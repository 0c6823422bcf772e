"""Title normalisation shared by every matcher: one canonical string per title.

>>> normalize_title("The Lord of the Rings:  The Return of the King")
'lord of the rings the return of the king'
>>> normalize_title("Amélie") == normalize_title("amelie") == normalize_title("Amelie, The")
True
"""

from __future__ import annotations

import re
import unicodedata

_ARTICLE_SUFFIX = re.compile(r",\s*the$")  # catalogue style "Matrix, The"
_NON_WORD = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lowercase, strip accents, ``&`` → ``and``, drop apostrophes, other punctuation → space, collapse spaces."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    text = text.replace("&", " and ").replace("'", "")
    return _SPACES.sub(" ", _NON_WORD.sub(" ", text)).strip()


def normalize_title(title: str) -> str:
    """``fold`` the title and remove a leading "The" (or a trailing ", The")."""
    text = _ARTICLE_SUFFIX.sub("", title.strip().lower())
    text = fold(text)
    return text[4:] if text.startswith("the ") else text
