"""Raw digest text -> a list of (title, abstract) entries with their line numbers. No site knowledge.

A digest is a scraped page: a few header lines ("Get trending papers in your email inbox!", "Subscribe", "byAK
and the research community"), maybe a date line ("Mar 13"), then papers, each a title line followed by an
abstract line. Two layouts are known: one with blank lines between all of these, one with none at all and
"Subscribe" glued to the first title. Blank lines therefore mean nothing here.

Titles and abstracts are told apart by their shape (length, sentences, final full stop), and the sequence is
read with a small dynamic programme rather than by strict alternation: it finds the labelling of lines as
title / abstract / continuation-of-abstract that costs least, where a title without an abstract and an
abstract without a title are allowed but expensive. A missing line in the middle thus costs one entry, not the
pairing of every entry after it, and the anomaly is reported with its line number.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date

# --- results ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One paper as the digest lists it. Lines are 1-based; abstract_line is 0 if the abstract is missing."""

    title: str
    abstract: str
    title_line: int
    abstract_line: int = 0


@dataclass(frozen=True, slots=True)
class Anomaly:
    line: int
    message: str


@dataclass(slots=True)
class ParsedDigest:
    entries: list[DigestEntry] = field(default_factory=list)
    date_text: str | None = None
    date_line: int = 0
    header_lines: list[int] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)


class DigestError(Exception):
    """A digest refused as a whole (empty, binary, no papers, impossible date)."""

    def __init__(self, message: str, line: int = 0, col: int = 0):
        super().__init__(message)
        self.message, self.line, self.col = message, line, col


# --- bytes to text ------------------------------------------------------------------------------------------


def decode_digest(data: bytes) -> tuple[str, list[Anomaly]]:
    """Bytes to text with Unix newlines and no BOM. Raises DigestError for an empty or binary file.

    UTF-16 with a BOM is read; stray bytes that are not UTF-8 (a file cut in the middle of a character, a
    Latin-1 accent) are replaced and reported rather than refusing a whole digest for them.
    """
    anomalies: list[Anomaly] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise DigestError("binary file, not a text digest", 1, 1) from None
    else:
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        if b"\x00" in data[:65536]:
            raise DigestError("binary file, not a text digest", 1, 1)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("utf-8", errors="replace")
            bad = text.count("\ufffd")
            if bad > max(8, len(text) // 100):
                raise DigestError(
                    f"not UTF-8 text ({bad} undecodable bytes); save the digest as UTF-8", 1, 1
                ) from None
            for number, line in enumerate(text.splitlines(), start=1):
                if "\ufffd" in line and len(anomalies) < 5:
                    col = line.index("\ufffd") + 1
                    anomalies.append(
                        Anomaly(number, f"bytes that are not UTF-8 replaced by '\ufffd' (column {col})")
                    )
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\t\f\v")
    if controls > max(4, len(text) // 200):
        raise DigestError("binary file, not a text digest", 1, 1)
    if not text.strip():
        raise DigestError("empty digest: no text at all", 1, 1)
    return text, anomalies


# --- header, boilerplate and date lines ---------------------------------------------------------------------

_BOILERPLATE = re.compile(
    r"(?ix) ^(?: new | subscribe!? | subscribe\s+now!? | unsubscribe | sign\s*up | log\s*in | sign\s*in"
    r" | trending(?:\s+papers)? | daily\s+papers | load\s+more | see\s+all | show\s+more | back\s+to\s+top"
    r" | by\s*AK\b.* | .*\bresearch\s+community\W* | .*\btrending\s+papers\b.* | .*\bemail\s+inbox\b.*"
    r" | .*\bnewsletter\b.* )$"
)
_GLUED_SUBSCRIBE = re.compile(r"^Subscribe(?=[A-Z0-9\"'“$(\[])")
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS["sept"] = 9
_WEEKDAY = (
    "(?:"
    + "|".join(name.lower() for name in calendar.day_name)
    + "|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)"
)
_MONTH = "(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE_LINE = re.compile(
    rf"(?i)^(?:(?:published\s+on|updated|date)\s*:?\s*)?(?:{_WEEKDAY},?\s+)?(?:"
    rf"{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<year>\d{{4}}))?"
    rf"|(?P<day2>\d{{1,2}})\s+{_MONTH.replace('month', 'month2')}(?:,?\s+(?P<year2>\d{{4}}))?"
    rf"|(?P<iso>\d{{4}}-\d{{2}}-\d{{2}}))$"
)


def is_boilerplate(line: str) -> bool:
    """A line of the page around the papers (subscribe box, byline), not of a paper."""
    return len(line) <= 120 and _BOILERPLATE.match(line) is not None


def parse_date_text(text: str) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) from a date line such as "Mar 13", "13 March 2026", "2026-03-13"; no check
    that the day exists in that month (resolve_date() does that, to report "Feb 30" as such)."""
    m = _DATE_LINE.match(text.strip())
    if m is None:
        return None
    if m.group("iso"):
        year, month, day = (int(x) for x in m.group("iso").split("-"))
        return year, month, day
    month = _MONTHS[(m.group("month") or m.group("month2")).lower()]
    day = int(m.group("day") or m.group("day2"))
    year = m.group("year") or m.group("year2")
    return (int(year) if year else None), month, day


def resolve_date(text: str, today: date, year: int | None = None) -> date:
    """The date a date line means: its own year, else `year`, else the latest such date not after `today`.

    Raises DigestError for a day that does not exist ("Feb 30").
    """
    parsed = parse_date_text(text)
    if parsed is None:
        raise DigestError(f"{text.strip()!r} is not a date line")
    line_year, month, day = parsed
    days_in_month = max(calendar.monthrange(y, month)[1] for y in (2023, 2024)) if 1 <= month <= 12 else 0
    if not 1 <= month <= 12 or not 1 <= day <= days_in_month:
        what = calendar.month_name[month] if 1 <= month <= 12 else f"month {month}"
        most = f" ({what} has {days_in_month} days at most)" if days_in_month else ""
        raise DigestError(f"date line {text.strip()!r} names a day that does not exist{most}")
    fixed = line_year or year
    if fixed is not None:
        try:
            return date(fixed, month, day)
        except ValueError:
            raise DigestError(
                f"date line {text.strip()!r}: {fixed} has no {calendar.month_name[month]} {day}"
            ) from None
    for candidate in range(today.year, today.year - 9, -1):  # Feb 29 may need a few years back
        try:
            day_date = date(candidate, month, day)
        except ValueError:
            continue
        if day_date <= today:
            return day_date
    raise DigestError(f"date line {text.strip()!r}: no such date in the last 8 years")


# --- line shapes --------------------------------------------------------------------------------------------

_ABBREV = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|vs|cf|etc|Fig|Figs|Eq|Eqs|Sec|No|Nos|Dr|Mr|Ms|Prof|St|approx|resp|incl|Ref|Vol|"
    r"pp|ca|Inc|Ltd|Co|Jr|Sr)|\b[A-Z])\.$"
)
_SENTENCE_END = re.compile(r"[.!?][\"”')\]]*\s+(?=[\"“(\[]?[A-Z0-9])")
INF = float("inf")


def sentence_count(line: str, stops: str = ".!?") -> int:
    """Sentence breaks inside the line ending in one of `stops`, not counting abbreviations ("e.g.", "J.")."""
    count = 0
    for m in _SENTENCE_END.finditer(line):
        if line[m.start()] in stops and not _ABBREV.search(line[max(0, m.start() - 8) : m.start() + 1]):
            count += 1
    return count


def _ends_sentence(line: str) -> bool:
    stripped = line.rstrip("\"”')] ")
    return stripped.endswith((".", "。")) and not _ABBREV.search(stripped[-9:])


def shape_costs(line: str) -> tuple[float, float]:
    """(cost as a title, cost as an abstract): 0 fits perfectly, larger fits worse."""
    n = len(line)
    sentences = sentence_count(line)
    period = _ends_sentence(line)
    if n >= 400 or sentences >= 3:
        return 12.0, 0.0
    # a title may hold one "?" or "!" ("Who's Harry Potter? Approximate Unlearning in LLMs"), never ". We"
    if not period and sentences <= 1 and sentence_count(line, ".") == 0:
        if n <= 160:
            return 0.0, 6.0
        if n <= 260:
            return 1.0, 3.0
        return (3.0, 1.0) if sentences == 0 else (6.0, 0.5)
    if sentences >= 1 and n >= 200:
        return 8.0, 0.0
    if period and n >= 120:
        return 5.0, 0.5
    if sentences >= 1:
        return 3.0, 1.0
    # short with a final full stop: a title that ends in one, or a very short abstract
    return (1.5, 2.5) if n < 80 else (2.5, 1.5)


_MISSING_ABSTRACT = 5.0  # a title followed by another title (or by the end of the file)
_ORPHAN_ABSTRACT = 5.0  # an abstract with no title before it
_T, _A, _C = 0, 1, 2  # title, abstract, continuation of the abstract before it


def _continuation_cost(previous: str, line: str) -> float:
    """How unlikely `line` is to be the rest of an abstract wrapped over several lines: likely only when the
    line before stops mid-sentence and this one goes on in lowercase. Otherwise an abstract after an abstract
    is far more often an abstract whose title was lost."""
    ends_open = not re.search(r"([.!?:;)\]\"”']|https?://\S+)$", previous.rstrip())
    return 1.0 if ends_open and line[:1].islower() else 9.0


def _label(lines: list[str]) -> list[int]:
    """The cheapest labelling of content lines as title/abstract/continuation (Viterbi over 3 states)."""
    if not lines:
        return []
    costs = [shape_costs(line) for line in lines]
    # best[i][s]: least cost of lines[:i+1] with line i labelled s; back[i][s]: the label of line i-1
    best = [[INF] * 3 for _ in lines]
    back = [[-1] * 3 for _ in lines]
    best[0][_T] = costs[0][0]
    best[0][_A] = costs[0][1] + _ORPHAN_ABSTRACT
    for i in range(1, len(lines)):
        t_cost, a_cost = costs[i]
        c_cost = a_cost + _continuation_cost(lines[i - 1], lines[i])
        for prev in (_T, _A, _C):
            base = best[i - 1][prev]
            if base == INF:
                continue
            options = (
                (_T, base + t_cost + (_MISSING_ABSTRACT if prev == _T else 0.0)),
                (_A, base + a_cost + (0.0 if prev == _T else _ORPHAN_ABSTRACT)),
                (_C, base + c_cost if prev in (_A, _C) else INF),
            )
            for state, total in options:
                if total < best[i][state]:
                    best[i][state], back[i][state] = total, prev
    final = [best[-1][s] + (_MISSING_ABSTRACT if s == _T else 0.0) for s in (_T, _A, _C)]
    state = min(range(3), key=lambda s: final[s])
    labels = [state]
    for i in range(len(lines) - 1, 0, -1):
        state = back[i][state]
        labels.append(state)
    return labels[::-1]


# --- parsing ------------------------------------------------------------------------------------------------


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def parse_digest(text: str) -> ParsedDigest:
    """Parse digest text (already decoded). Never raises: problems become anomalies with line numbers."""
    result = ParsedDigest()
    content: list[tuple[int, str]] = []  # (line number, text) of lines that may be titles or abstracts
    page_lines: list[tuple[int, str]] = []  # boilerplate of the page around the papers
    date_lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = " ".join(raw.replace("\ufeff", "").split())
        if not line:
            continue
        if not content:
            glued = _GLUED_SUBSCRIBE.match(line)
            if glued:  # "SubscribeDeepArchitect: ..." - the button's label glued to the first title
                page_lines.append((number, "Subscribe"))
                line = line[glued.end() :].lstrip()
        if is_boilerplate(line):
            page_lines.append((number, line))
        elif parse_date_text(line) is not None:
            date_lines.append((number, line))
        else:
            content.append((number, line))
    labels = _label([line for _, line in content])
    _pair(content, labels, result)
    first = result.entries[0].title_line if result.entries else len(text)
    for number, line in page_lines:
        if number <= first:
            result.header_lines.append(number)
        else:
            result.anomalies.append(Anomaly(number, f"page text {_clip(line)!r} skipped (not a paper)"))
    for number, line in date_lines:
        if number < first and result.date_text is None:
            result.date_text, result.date_line = line, number
        else:
            result.anomalies.append(Anomaly(number, f"another date line {line!r} ignored"))
    result.header_lines.sort()
    result.anomalies.sort(key=lambda a: a.line)
    return result


def _pair(content: list[tuple[int, str]], labels: list[int], result: ParsedDigest) -> None:
    """Turn labelled lines into entries, reporting titles without abstracts and abstracts without titles."""
    title: tuple[int, str] | None = None
    abstract: list[str] = []
    abstract_line = 0
    orphan = False

    def flush() -> None:
        nonlocal title, abstract, abstract_line
        if title is not None:
            number, text = title
            if abstract:
                result.entries.append(DigestEntry(text, " ".join(abstract), number, abstract_line))
            elif not result.entries:
                # before the first complete paper: a header line of a kind not seen before
                result.header_lines.append(number)
                result.anomalies.append(Anomaly(number, f"unrecognised header line {_clip(text)!r} skipped"))
            elif len(text.split()) < 2:
                result.anomalies.append(Anomaly(number, f"stray line {_clip(text)!r} skipped"))
            else:
                result.entries.append(DigestEntry(text, "", number, 0))
                result.anomalies.append(Anomaly(number, f"title without an abstract: {_clip(text)!r}"))
        title, abstract, abstract_line = None, [], 0

    for (number, line), label in zip(content, labels, strict=True):
        if label == _T:
            flush()
            title, orphan = (number, line), False
        elif label == _A:
            if title is None or abstract:
                flush()
                orphan = True
                result.anomalies.append(Anomaly(number, f"abstract without a title skipped: {_clip(line)!r}"))
                continue
            abstract, abstract_line, orphan = [line], number, False
        else:  # continuation
            if orphan:
                continue
            abstract.append(line)
            result.anomalies.append(
                Anomaly(number, "abstract continues on this line; joined to the line before")
            )
    flush()


def read_digest(data: bytes) -> ParsedDigest:
    """decode_digest + parse_digest; raises DigestError if the file holds no paper at all."""
    text, anomalies = decode_digest(data)
    parsed = parse_digest(text)
    parsed.anomalies[:0] = anomalies
    if not parsed.entries:
        if parsed.header_lines or parsed.date_text:
            raise DigestError("no papers in this digest, only header lines", 1, 1)
        raise DigestError("no papers in this digest: no title followed by an abstract", 1, 1)
    return parsed
