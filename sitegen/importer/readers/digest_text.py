"""Raw digest text (see sitegen.importer.digest): entries cleaned of scrape damage (sitegen.text.clean),
dated by the digest's date line, `--date` or `--year`. Each entry carries what its repair did and left (the
import reports them for the papers it lists, in warnings and the digest's repair report)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sitegen.content.model import is_web_link
from sitegen.importer.digest import DigestError, read_digest, resolve_date
from sitegen.importer.readers.entry import ImportedEntry, ReaderError, SourceFile
from sitegen.text.clean import clean_abstract, clean_title


@dataclass(frozen=True, slots=True)
class Dating:
    """How digests are dated: `day` for every file (--date), else the date line, in `year` (--year) or the
    latest such date not after `today`."""

    today: date
    day: date | None = None
    year: int | None = None


def _date(path: Path, parsed_date: str | None, line: int, dating: Dating) -> date:
    if dating.day is not None:
        return dating.day
    if parsed_date is None:
        raise ReaderError(
            "no date line (like 'Mar 13') in this digest; give its date with --date YYYY-MM-DD", 1, 1
        )
    try:
        return resolve_date(parsed_date, dating.today, dating.year)
    except DigestError as exc:
        raise ReaderError(exc.message, line, 1) from None


def read(path: Path, data: bytes, dating: Dating) -> SourceFile:
    """The entries of a digest. Raises ReaderError for one refused as a whole (see
    sitegen.importer.digest)."""
    try:
        parsed = read_digest(data)
    except DigestError as exc:
        raise ReaderError(exc.message, exc.line, exc.col) from None
    day = _date(path, parsed.date_text, parsed.date_line, dating)
    source = SourceFile(path, "digest", keep=data)
    for anomaly in parsed.anomalies:
        source.warn(anomaly.message, anomaly.line)
    for item in parsed.entries:
        title, abstract = clean_title(item.title), clean_abstract(item.abstract)
        leftovers = [
            (item.title_line if leftover in item.title else item.abstract_line or item.title_line, leftover)
            for leftover in title.leftovers + abstract.leftovers
        ]
        source.entries.append(
            ImportedEntry(
                title=title.text,
                source=str(path),
                line=item.title_line,
                abstract=abstract.text,
                # `links:` holds what the page validator accepts, as it decides: a URL it would refuse drops
                # the page.
                links=[url for url in abstract.links if is_web_link(url)],
                digest=day,
                repairs=title.repairs + abstract.repairs,
                leftovers=leftovers,
                scraped=True,
            )
        )
    return source
