"""Readable ASCII slugs and the title key that decides whether two titles name the same paper.

Slugs are made from the *cleaned* title: transliterated to ASCII ("TÜLU 3" -> "tulu-3", "μ-Bench" ->
"mu-bench"), lowercased, cut between words to at most MAX_LENGTH characters. A slug is never derived again
once a page exists: the importer finds pages by title key, so a slug that the curator renamed stays renamed.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_LENGTH = 64
"""At most this many characters; cut between words, so a typical slug keeps the title's first 6-9 words."""
#: What any slug may be, a paper's or a tag's, made here or written by hand (slugify() gives one, or '').
SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ϵ": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ϑ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu",
    "ξ": "xi", "ο": "omicron", "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "sigma", "τ": "tau", "υ": "upsilon",
    "φ": "phi", "ϕ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
}  # fmt: skip
_LETTERS = {
    "ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "ł": "l", "Ł": "L", "đ": "d",
    "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "ı": "i", "ħ": "h", "Ħ": "H", "ŋ": "ng", "ĸ": "k",
    "&": " and ", "∞": "infinity", "×": "x", "→": " to ",
}  # fmt: skip
_TRANSLIT = str.maketrans(
    {**_LETTERS, **_GREEK, **{k.upper(): v.capitalize() for k, v in _GREEK.items() if k not in "ςϵϑϕ"}}
)
# Apostrophes join their word ("Who's" -> "whos"), they do not split it.
_APOSTROPHES = re.compile(r"(?<=\w)['’ʼ`](?=\w)")
_STOP_WORDS = frozenset(
    {"a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to", "via"}
    | {"vs", "with", "using"}
)


def transliterate(text: str) -> str:
    """Latin letters without accents, Greek letters by name; characters with no ASCII form are kept."""
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLIT)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _words(title: str) -> list[str]:
    """The title's words as slug pieces; a hyphenated word stays one piece ("post-training")."""
    text = _APOSTROPHES.sub("", transliterate(title)).lower()
    pieces = []
    for word in text.split():
        piece = re.sub(r"[^a-z0-9]+", "-", word).strip("-")
        if piece:
            pieces.append(piece)
    return pieces


def slugify(title: str, max_length: int = MAX_LENGTH) -> str:
    """A slug for `title`: lowercase ASCII letters, digits and single hyphens; '' if nothing is left."""
    words = _words(title)
    slug = "-".join(words)
    if len(slug) <= max_length:
        return slug
    kept: list[str] = []
    for word in words:
        if len("-".join([*kept, word])) > max_length:
            break
        kept.append(word)
    if not kept:  # one very long word: cut it between its own parts, or hard
        kept = [words[0][:max_length].rstrip("-")]
    while len(kept) > 1 and kept[-1] in _STOP_WORDS:
        kept.pop()
    return "-".join(kept)


def title_key(title: str) -> str:
    """What must be equal for two titles to name the same paper: letters and digits, case-folded."""
    text = transliterate(title).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def short_hash(text: str, length: int = 6) -> str:
    # SHA-1, not sitegen.store.files.fingerprint: the suffixes of slugs already published must not change.
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


def unique_slug(title: str, taken: set[str] | frozenset[str], max_length: int = MAX_LENGTH) -> str:
    """slugify(title), or, if that is taken, the same with a suffix made from the title itself.

    The suffix depends only on the title, so the same paper gets the same slug whatever order digests are
    imported in; a counter is added only in the (practically impossible) case that the suffixed form is
    taken too.
    """
    key = title_key(title)
    base = slugify(title, max_length) or "paper"
    if base not in taken and base != "paper":
        return base
    suffix = short_hash(key or title)
    stem = slugify(title, max_length - len(suffix) - 1) or "paper"
    candidate = f"{stem}-{suffix}"
    counter = 2
    while candidate in taken:
        candidate = f"{stem}-{suffix}-{counter}"
        counter += 1
    return candidate


# Path segments below authors/ that pages other than an author's use (authors/letter/<x>/).
RESERVED_AUTHOR_SLUGS = frozenset({"letter"})


def author_slug(name: str) -> str:
    """The slug of an author's page: slugify(name), so that it depends on the name alone (stable whatever
    else the site holds) and names that differ only in case, accents or spacing share a page. A name with
    no ASCII form ("张伟"), or one whose slug is a reserved path segment, gets a suffix made from the name."""
    base = slugify(name)
    if base and base not in RESERVED_AUTHOR_SLUGS:
        return base
    key = " ".join(unicodedata.normalize("NFKC", name).casefold().split())
    return f"{base or 'author'}-{short_hash(key)}"


def author_group(name: str) -> str:
    """The group an author is listed in on the authors index: the first letter of the name's slug, "0-9",
    or "other" for a name with no ASCII form. (Every name that shares an author's slug shares its group.)"""
    first = slugify(name)[:1]
    if not first:
        return "other"
    return "0-9" if first.isdigit() else first
