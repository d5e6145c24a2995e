"""Static SVG charts made at build time.

Every function returns inline SVG markup (a string, safe to insert as HTML) that reads in light and dark
themes (colours through CSS `currentColor`/classes, no hard-coded background) and carries a text alternative
(<title>/<desc> and role="img" aria-labelledby), or "" when there is nothing to draw.

Shape of the markup, for the page's CSS:

- `<svg class="chart-svg chart-KIND">` with `fill="currentColor"`, a viewBox and `width="100%"`: it scales to
  its container and inherits the page's text colour and font. KIND is digests, tags, timeline or rising.
- `.chart-bar` bars (`fill="currentColor"` at reduced opacity, so they read without any CSS),
  `.chart-bar-before` the "earlier" bar of the rising chart, `.chart-grid` grid lines, `.chart-axis` the
  baseline, `.chart-label` category and tick labels, `.chart-value` numbers at bar ends, `.chart-axis-title`
  axis titles and legend.
- A bar with a page links to it (`<a href>` around it, out of the tab order: the same links are in the page's
  lists, and a keyboard user should not tab through a hundred bars), and has a <title> tooltip with its
  figure.
- Every piece of text is escaped: names may hold <, & or quotes.

Long histories are binned so that a chart never has more than `max_bars` bars: per month, or per year.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from sitegen.store.files import fingerprint

# Logical canvas; the SVG scales to its container's width, so these are proportions, not pixels.
WIDTH = 720
# The canvas of a chart's phone variant (`width=NARROW`): about the width of a phone's column, so that its
# text keeps its size there instead of shrinking to half of it.
NARROW = 340
FONT = 13
CHAR = FONT * 0.58  # average advance of a character, to fit labels
BAR_OPACITY = ".8"
MAX_BARS = 90


def _esc(text: object) -> str:
    return escape(str(text), quote=True)


def _num(x: float) -> str:
    """A coordinate with at most one decimal and no trailing zeros: short, and identical on every run."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _count(n: float) -> str:
    return f"{n:,.1f}".removesuffix(".0") if isinstance(n, float) else f"{n:,}"


def _plural(n: float, word: str) -> str:
    return f"{_count(n)} {word}" + ("" if n == 1 else "s")


def _nice_step(top: int, ticks: int = 4) -> int:
    """A whole step of 1, 2 or 5 times a power of ten giving at most `ticks` grid lines up to `top`."""
    rough = max(top, 1) / ticks
    magnitude = 10 ** max(math.floor(math.log10(rough)), 0)
    return next(f * magnitude for f in (1, 2, 5, 10) if f * magnitude >= rough)


def _truncate(text: str, width: float) -> str:
    """The text cut with an ellipsis to fit `width` logical units."""
    fits = max(int(width / CHAR), 2)
    return text if len(text) <= fits else text[: fits - 1].rstrip() + "…"


class _Svg:
    """Collects the elements of one chart and wraps them with the accessible header."""

    def __init__(
        self, kind: str, title: str, desc: str, height: float, data: object, width: int = WIDTH
    ) -> None:
        key = (kind, title, data) if width == WIDTH else (kind, title, data, width)
        digest = fingerprint(repr(key).encode(), 4)
        self.id = f"chart-{kind}-{digest}"
        self.kind, self.title, self.desc, self.height, self.width = kind, title, desc, height, width
        self.parts: list[str] = []

    def add(self, element: str) -> None:
        self.parts.append(element)

    def bar(
        self, box: tuple[float, float, float, float], tip: str, url: str | None, cls: str = "chart-bar"
    ) -> None:
        x, y, w, h = box
        opacity = BAR_OPACITY if cls == "chart-bar" else ".3"
        rect = (
            f'<rect class="{cls}" x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}"'
            f' fill-opacity="{opacity}"><title>{_esc(tip)}</title></rect>'
        )
        self.add(f'<a href="{_esc(url)}" tabindex="-1">{rect}</a>' if url else rect)

    def text(self, x: float, y: float, content: str, cls: str = "chart-label", anchor: str = "start") -> None:
        anchor_attr = "" if anchor == "start" else f' text-anchor="{anchor}"'
        self.add(f'<text class="{cls}" x="{_num(x)}" y="{_num(y)}"{anchor_attr}>{_esc(content)}</text>')

    def line(self, x1: float, y1: float, x2: float, y2: float, cls: str, opacity: str) -> None:
        self.add(
            f'<line class="{cls}" x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}"'
            f' stroke="currentColor" stroke-opacity="{opacity}"/>'
        )

    def markup(self) -> str:
        # A chart whose bars are links cannot be role="img" (an image has no interactive parts, and assistive
        # technologies reach links even out of the tab order): it is a group named by its title and
        # description, with its drawing hidden from them, so that they read the same text alternative.
        body = "".join(self.parts)
        linked = any(part.startswith("<a ") for part in self.parts)
        role = "group" if linked else "img"
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg chart-{self.kind}" role="{role}"'
            f' aria-labelledby="{self.id}-title {self.id}-desc"'
            f' viewBox="0 0 {self.width} {_num(self.height)}"'
            f' width="100%" fill="currentColor" font-size="{FONT}">'
            f'<title id="{self.id}-title">{_esc(self.title)}</title>'
            f'<desc id="{self.id}-desc">{_esc(self.desc)}</desc>'
        )
        return head + (f'<g aria-hidden="true">{body}</g>' if linked else body) + "</svg>"


# -- bars over time ------------------------------------------------------------------------------------------


Point = tuple[str, int, "str | None"]  # (ISO date, count, URL)
Bin = tuple[str, int, "str | None", int]  # (label, count, URL, digests in it)


def _bins(points: Sequence[Point], max_bars: int) -> tuple[list[Bin], str]:
    """One bar per digest, or per month (or year) when there are more than `max_bars`; and that unit."""
    if len(points) <= max_bars:
        return [(d, c, u, 1) for d, c, u in points], "digest"
    width, unit = (7, "month") if len({d[:7] for d, _, _ in points}) <= max_bars else (4, "year")
    sums: dict[str, list[int]] = {}
    for d, c, _ in points:
        entry = sums.setdefault(d[:width], [0, 0])
        entry[0] += c
        entry[1] += 1
    return [(key, total, None, n) for key, (total, n) in sums.items()], unit


def _time_bars(kind: str, title: str, points: Sequence[Point], max_bars: int, width: int = WIDTH) -> str:
    """Vertical bars of paper counts, oldest left."""
    if not any(c for _, c, _ in points):
        return ""
    noun = "paper"
    points = sorted(points, key=lambda p: p[0])
    bins, unit = _bins(points, max_bars)
    total = sum(c for _, c, _, _ in bins)
    top = max(c for _, c, _, _ in bins)
    step = _nice_step(top)
    ceiling = step * -(-top // step)
    peak = next(b for b in bins if b[1] == top)
    desc = (
        f"{_plural(total, noun)} in {_plural(len(points), 'digest')} from {points[0][0]} to {points[-1][0]}"
        f"{'' if unit == 'digest' else f', one bar per {unit}'}; most in {peak[0]} ({_count(top)})."
    )
    height = 200
    left, right, top_margin, bottom = len(_count(ceiling)) * CHAR + 10, 8, 24, 26
    plot_w, plot_h = width - left - right, height - top_margin - bottom
    svg = _Svg(kind, title, desc, height, points, width)
    svg.text(0, 12, f"{noun}s per {unit}".capitalize(), "chart-axis-title")
    for tick in range(0, ceiling + 1, step):
        y = top_margin + plot_h - tick / ceiling * plot_h
        if tick:
            svg.line(left, y, width - right, y, "chart-grid", ".15")
        svg.text(left - 6, y + FONT * 0.35, _count(tick), anchor="end")
    slot = plot_w / len(bins)
    bar_w = min(slot - (min(slot * 0.2, 4) if slot > 3 else 0), 48)  # a few digests: bars, not slabs
    for i, (label, count, url, digests) in enumerate(bins):
        if not count:
            continue
        h = count / ceiling * plot_h
        tip = f"{label}: {_plural(count, noun)}"
        if unit != "digest":
            tip += f" in {_plural(digests, 'digest')}"
        svg.bar((left + (i + 0.5) * slot - bar_w / 2, top_margin + plot_h - h, max(bar_w, 0.5), h), tip, url)
    baseline = top_margin + plot_h
    svg.line(left, baseline, width - right, baseline, "chart-axis", ".5")
    # At most one date label per ~12 characters of width: the first, the last, and evenly between.
    labels = min(len(bins), max(int(plot_w // (CHAR * 12)), 2))
    shown = sorted({round(i * (len(bins) - 1) / (labels - 1)) for i in range(labels)}) if labels > 1 else [0]
    for i in shown:
        x, anchor = left + (i + 0.5) * slot, "middle"
        if x - CHAR * 5 < left - 4:  # a centred date would stick out: align it with the plot's edge
            x, anchor = max(x - bar_w / 2, 0), "start"
        elif x + CHAR * 5 > width:
            x, anchor = min(x + bar_w / 2, width), "end"
        svg.text(x, baseline + FONT + 4, bins[i][0], anchor=anchor)
    return svg.markup()


def papers_per_digest(
    counts: Sequence[tuple[str, int, str]], *, max_bars: int = MAX_BARS, width: int = WIDTH
) -> str:
    """Bars of papers per digest. counts: (ISO date, paper count, URL of the digest page), oldest first."""
    return _time_bars("digests", "Papers per digest", [(d, c, u) for d, c, u in counts], max_bars, width)


def tag_timeline(
    name: str, counts: Sequence[tuple[str, int]], *, max_bars: int = MAX_BARS, width: int = WIDTH
) -> str:
    """One tag's papers per digest over time. counts: (ISO date, count) for every digest date, oldest first.

    A date with no paper of the tag draws no bar but keeps its place on the time axis.
    """
    points: list[Point] = [(d, c, None) for d, c in counts]
    return _time_bars("timeline", f"Papers tagged {name} per digest", points, max_bars, width)


# -- horizontal bars -----------------------------------------------------------------------------------------


def _label_width(names: Sequence[str], width: int = WIDTH) -> float:
    # A narrow canvas gives labels a larger share: names are cut sooner, and bars still have room.
    return min(max(len(n) for n in names) * CHAR + 8, width * (0.38 if width >= WIDTH else 0.5))


def tag_sizes(counts: Sequence[tuple[str, int, str]], *, width: int = WIDTH) -> str:
    """Horizontal bars of papers per tag. counts: (tag display name, paper count, URL of the tag page)."""
    rows = [(n, c, u) for n, c, u in counts if c > 0]
    if not rows:
        return ""
    row_h, top_margin = 22, 6
    label_w = _label_width([n for n, _, _ in rows], width)
    value_w = len(_count(max(c for _, c, _ in rows))) * CHAR + 8
    plot_w = width - label_w - value_w
    top = max(c for _, c, _ in rows)
    height = top_margin + row_h * len(rows) + 4
    listed = ", ".join(f"{n} {_count(c)}" for n, c, _ in rows[:12])
    more = f", and {len(rows) - 12} more" if len(rows) > 12 else ""
    desc = f"Papers per tag, {_plural(len(rows), 'tag')}: {listed}{more}."
    svg = _Svg("tags", "Papers per tag", desc, height, rows, width)
    for i, (name, count, url) in enumerate(rows):
        y = top_margin + i * row_h
        w = max(count / top * plot_w, 1)
        svg.text(label_w - 8, y + row_h / 2 + FONT * 0.35, _truncate(name, label_w - 8), anchor="end")
        svg.bar((label_w, y + 3, w, row_h - 6), f"{name}: {_plural(count, 'paper')}", url)
        svg.text(label_w + w + 5, y + row_h / 2 + FONT * 0.35, _count(count), "chart-value")
    svg.line(label_w, top_margin, label_w, height - 4, "chart-axis", ".5")
    return svg.markup()


def rising_tags(
    rows: Sequence[tuple[str, int, int, str]],
    *,
    recent_digests: int | None = None,
    earlier_digests: int | None = None,
    width: int = WIDTH,
) -> str:
    """Tags rising in the latest digests.

    rows: (tag name, recent count, earlier count, URL), most rising first (see `rising_tag_rows`). With
    `recent_digests` and `earlier_digests` (how many digests each count covers) the bars compare papers per
    digest: a solid bar for the latest digests over a faint one for the digests before. Without them, the bar
    is the recent count and the earlier count is given in words. On a canvas narrower than WIDTH each name
    stands above its bars (beside them, names and figures would leave the bars no room).
    """
    rows = [(n, r, e, u) for n, r, e, u in rows if r > 0]
    if not rows:
        return ""
    rates = recent_digests and earlier_digests
    figures = [
        (r / recent_digests, e / earlier_digests) if rates else (float(r), None) for _, r, e, _ in rows
    ]

    def value_text(i: int) -> str:
        now, before = figures[i]
        if before is not None:
            return f"{now:.1f} per digest, was {before:.1f}"
        return f"{_count(rows[i][1])} recent, {_count(rows[i][2])} before"

    stacked = width < WIDTH
    label_h = FONT + 5 if stacked else 0  # the name's line above the bars
    row_h = 30 + label_h
    label_w = 0.0 if stacked else _label_width([n for n, _, _, _ in rows], width)
    value_w = max(len(value_text(i)) for i in range(len(rows))) * CHAR + 8
    plot_w = max(width - label_w - value_w, width * 0.2)
    top = max(max(now, before or 0.0) for now, before in figures)
    window = f"the latest {_plural(recent_digests, 'digest')}" if recent_digests else "the latest digests"
    before_legend = "The digests before (papers per digest)"
    # The legend: its two keys side by side, or one above the other when they do not fit.
    legend_x = 17 + len(window) * CHAR + 16
    two_lines = rates and legend_x + 17 + len(before_legend) * CHAR > width
    top_margin = 42 if two_lines else 24
    height = top_margin + row_h * len(rows) + 4
    listed = "; ".join(f"{name}: {value_text(i)}" for i, (name, _, _, _) in enumerate(rows))
    desc = f"Tags rising in {window}, most rising first. {listed}."
    data = (rows, recent_digests, earlier_digests)
    svg = _Svg("rising", f"Rising tags in {window}", desc, height, data, width)
    svg.bar((0, 4, 12, 10), f"Bars: {window}", None)
    svg.text(17, 13, window.capitalize(), "chart-axis-title")
    if rates:
        x, y = (0, 22) if two_lines else (legend_x, 4)
        svg.bar((x, y, 12, 10), "Faint bars: the digests before", None, cls="chart-bar-before")
        svg.text(x + 17, y + 9, before_legend, "chart-axis-title")
    for i, (name, _, _, url) in enumerate(rows):
        y = top_margin + i * row_h
        now, before = figures[i]
        w = max(now / top * plot_w, 1)
        if stacked:
            svg.text(0, y + FONT, _truncate(name, width))
            y += label_h
        mid = y + 15 + FONT * 0.35
        if not stacked:
            svg.text(label_w - 8, mid, _truncate(name, label_w - 8), anchor="end")
        end = w
        if before is not None:
            faint = max(before / top * plot_w, 1)
            svg.bar((label_w, y + 3, faint, 24), f"{name}: {value_text(i)}", None, cls="chart-bar-before")
            end = max(w, faint)
        svg.bar((label_w, y + 8, w, 14), f"{name}: {value_text(i)}", url)
        svg.text(label_w + end + 5, mid, value_text(i), "chart-value")
    if not stacked:
        svg.line(label_w, top_margin, label_w, height - 4, "chart-axis", ".5")
    return svg.markup()


# -- which tags rise -----------------------------------------------------------------------------------------


def rising_window(digest_count: int, recent: int = 3) -> int:
    """How many of the latest digests `rising_tag_rows` compares with the rest: `recent`, but never more than
    there are earlier digests to compare with (a young site with 4 digests compares the latest 2 with 2)."""
    return max(min(recent, digest_count // 2), 0)


def rising_tag_rows(
    tag_dates: dict[str, list[str]],
    digest_dates: Sequence[str],
    recent: int = 3,
    *,
    min_recent: int = 2,
    min_rise: float = 1.2,
    limit: int | None = 8,
) -> list[tuple[str, int, int]]:
    """Which tags rise: tag_dates maps tag slug -> the digest dates of its papers (one per paper and date).

    Returns (tag slug, count in the `recent` latest digests, count in the earlier ones), most rising first.

    The window is `rising_window(len(digest_dates), recent)` digests: the latest `recent`, fewer when there
    are not as many earlier digests to compare with; pass the same number to `rising_tags` for its labels.
    A tag rises when its share of all tag mentions in the window is above its share in the digests before.
    Shares, not counts, so that a bigger digest does not lift every tag. The score compares the recent count
    r with the count E expected at the earlier share, smoothed by one on both sides: log((r + 1) / (E + 1)).
    The smoothing keeps a tag seen once recently and never before from topping the list; a tag needs at least
    `min_recent` recent papers and (r + 1) / (E + 1) >= `min_rise` (a few percent is noise, not a rise).
    Ties: higher recent count, then slug. At most `limit` rows (None: all). Nothing rises with fewer than two
    digests: there is no trend to speak of.
    """
    dates = sorted(set(digest_dates))
    window_size = rising_window(len(dates), recent)
    if window_size < 1:
        return []
    window = set(dates[-window_size:])
    earlier_dates = set(dates[:-window_size])
    counts: dict[str, tuple[int, int]] = {}
    for slug, tag_days in tag_dates.items():
        r = sum(1 for d in tag_days if d in window)
        e = sum(1 for d in tag_days if d in earlier_dates)
        counts[slug] = (r, e)
    total_recent = sum(r for r, _ in counts.values())
    total_earlier = sum(e for _, e in counts.values())
    if not total_recent or not total_earlier:
        return []
    scored = []
    for slug, (r, e) in counts.items():
        expected = e * total_recent / total_earlier
        rise = (r + 1) / (expected + 1)
        if r >= min_recent and rise >= min_rise:
            scored.append((-math.log(rise), -r, slug, e))
    scored.sort()
    rows = [(slug, -neg_r, e) for _, neg_r, slug, e in scored]
    return rows if limit is None else rows[:limit]
