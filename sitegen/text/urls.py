"""URLs of the output: where each page lives, and how a link to it is written.

Every link the site prints goes through `Urls`, so that a base URL with a path (`https://x.org/review/`) is
carried by every href, src and feed URL. Page addresses inside sitegen are *site paths*: relative to the
site's root, without a leading slash, ending in `/` for a page (`papers/x/`) or naming a file (`feed.xml`).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote, quote_plus, urlsplit

_SAFE_PATH = re.compile(r"[A-Za-z0-9/._~-]*")


def _quote(site_path: str) -> str:
    path = site_path.lstrip("/")
    # Slugs and dates need no quoting: skip the slow general case for them.
    return path if _SAFE_PATH.fullmatch(path) else quote(path, safe="/:@!$&'()*+,;=-._~%")


class Urls:
    """Turns site paths into links. `base_url` is absolute and ends with '/'."""

    __slots__ = ("base_path", "base_url")

    def __init__(self, base_url: str):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        path = urlsplit(self.base_url).path or "/"
        #: The path part of the base URL: '/' or '/review/'.
        self.base_path = path if path.endswith("/") else path + "/"

    def path(self, site_path: str = "") -> str:
        """A root-relative link (`/review/papers/x/`): works on any host the site is copied to."""
        return self.base_path + _quote(site_path)

    def absolute(self, site_path: str = "") -> str:
        """A full URL for feeds, the sitemap, canonical and OpenGraph links."""
        return self.base_url + _quote(site_path)

    def content_link(self, href: str) -> str:
        """A link in Markdown content: '/papers/x/' means the site's root, not the host's, and a
        protocol-relative '//host/x' (linkified from scraped text like "https: //github.com/x") gets https."""
        if href.startswith("//"):
            return "https:" + href
        if href.startswith("/") and not href.startswith(self.base_path):
            return self.base_path + href[1:]
        return href


# --- where each page lives -------------------------------------------------------------------------------


PAPERS = "papers/"  # the folder of the paper pages (what the search index covers)


def paper_path(slug: str) -> str:
    return f"{PAPERS}{slug}/"


def listing_path(folder: str, slug: str, page: int = 1) -> str:
    """Page `page` of a paginated list of papers: tags/<tag>/, authors/<author>/ (then .../page/<n>/)."""
    return f"{folder}/{slug}/" if page <= 1 else f"{folder}/{slug}/page/{page}/"


def tag_path(slug: str, page: int = 1) -> str:
    return listing_path("tags", slug, page)


def author_path(slug: str, page: int = 1) -> str:
    return listing_path("authors", slug, page)


def author_group_path(group: str) -> str:
    """The page of the authors whose names start with `group` (see slugs.author_group), on a large site."""
    return f"authors/letter/{group}/"


def tag_feed_path(slug: str) -> str:
    return f"tags/{slug}/feed.xml"


def digest_path(day: date) -> str:
    return f"digests/{day.isoformat()}/"


def status_feed_path(status: str) -> str:
    """The Atom feed of the papers a curator gave `status` (unread, reading, read)."""
    return f"{READING}{status}.xml"


HOME, TAGS, DIGESTS, SEARCH, READING, AUTHORS = "", "tags/", "digests/", "search/", "reading/", "authors/"
# The exports of a list's papers, beside its page (tags/x/papers.bib, digests/2026-03-13/papers.json,
# reading/papers.bib); partials/export_links.html links to them.
EXPORT_BIB, EXPORT_JSON = "papers.bib", "papers.json"
FEED, SITEMAP, ROBOTS, NOT_FOUND = "feed.xml", "sitemap.xml", "robots.txt", "404.html"


def is_local(url: str) -> bool:
    """Whether `url` names this computer (localhost, a loopback or unspecified address): a link to it leads
    nowhere once the site is deployed."""
    scheme, sep, rest = url.partition("://")
    # The same host for every page of a site: worked out once (for a URL urlsplit takes as it is).
    if sep and scheme.isalpha() and url.isascii() and url.isprintable():
        return _local_netloc(rest[: min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))])
    return _local_host(urlsplit(url).hostname or "")


@functools.lru_cache(maxsize=64)
def _local_netloc(netloc: str) -> bool:
    return _local_host(urlsplit("//" + netloc).hostname or "")


def _local_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def output_file(site_path: str) -> str:
    """The file, relative to the output folder, that serves a site path."""
    return site_path + "index.html" if site_path == "" or site_path.endswith("/") else site_path


# --- links to the outside world ----------------------------------------------------------------------------

_CODE_HOSTS = {
    "github.com": "GitHub",
    "gitlab.com": "GitLab",
    "gitee.com": "Gitee",
    "bitbucket.org": "Bitbucket",
    "codeberg.org": "Codeberg",
    "git.sr.ht": "SourceHut",
    "sourceforge.net": "SourceForge",
}
_HF_KINDS = {"datasets": "dataset", "spaces": "demo"}
# Hosts of code, data and papers: a bare "github.com/x/y" in an abstract is a link, while a word such as
# "images.In" (a missing space) or "MedRoBERTa.nl" (a model name) only looks like a domain. Subdomains count
# ("user.github.io", "docs.github.com").
KNOWN_HOSTS = frozenset(
    {
        *_CODE_HOSTS,
        *(
            "github.io",
            "gitlab.io",
            "huggingface.co",
            "hf.co",
            "zenodo.org",
            "kaggle.com",
            "paperswithcode.com",
        ),
        *("openreview.net", "arxiv.org", "doi.org", "aclanthology.org", "figshare.com", "osf.io", "pypi.org"),
        *(
            "colab.research.google.com",
            "drive.google.com",
            "sites.google.com",
            "modelscope.cn",
            "dagshub.com",
        ),
        *("proceedings.mlr.press", "proceedings.neurips.cc", "openaccess.thecvf.com", "semanticscholar.org"),
    }
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def is_known_host(host: str) -> bool:
    """Whether `host` (lowercase, no port) is one of KNOWN_HOSTS or below one."""
    host = host.rstrip(".")
    return any(host == known or host.endswith("." + known) for known in KNOWN_HOSTS)


def bare_link_allowed(text: str) -> bool:
    """Whether a link found in running text, as written there, may become a link: it has a scheme, starts
    with "www.", or names a known host ("github.com/x/y", "//huggingface.co/m")."""
    if _SCHEME.match(text) and not text.startswith("//"):
        return True
    rest = text[2:] if text.startswith("//") else text
    if rest[:4].lower() == "www.":
        return True
    host = re.split(r"[/:?#]", rest, maxsplit=1)[0].lower()
    return is_known_host(host)


@dataclass(frozen=True, slots=True)
class Link:
    """An external link of a paper, classified for display.

    kind: 'code' for source repositories (GitHub, GitLab, Gitee, Hugging Face models, ...), 'dataset', 'demo',
    'paper' (arXiv and the like), 'project' (a project page), or 'link'.
    """

    url: str
    label: str
    kind: str
    host: str

    @property
    def is_code(self) -> bool:
        return self.kind in ("code", "dataset", "demo")

    @property
    def badge(self) -> str:
        return {
            "code": "Code",
            "dataset": "Dataset",
            "demo": "Demo",
            "paper": "Paper",
            "project": "Project page",
        }.get(self.kind, "Link")


def classify_link(url: str) -> Link:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    host = host[4:] if host.startswith("www.") else host
    segments = [s for s in parts.path.split("/") if s]
    label = host + ("/" + "/".join(segments) if segments else "")
    if len(label) > 64:
        label = label[:63] + "…"
    kind = "link"
    if host in _CODE_HOSTS or host.endswith(".gitlab.com"):
        kind = "code" if segments else "link"
    elif host in ("huggingface.co", "hf.co"):
        if segments and segments[0] == "papers":
            kind = "paper"
        elif segments and segments[0] in _HF_KINDS:
            kind = _HF_KINDS[segments[0]]
        elif len(segments) >= 2:
            kind = "code"  # a model repository
    elif host in ("arxiv.org", "openreview.net", "aclanthology.org", "doi.org", "proceedings.mlr.press"):
        kind = "paper"
    elif host.endswith((".github.io", ".gitlab.io")) or host.startswith("sites.google."):
        kind = "project"
    return Link(url=url, label=label, kind=kind, host=host)


def find_paper_links(title: str) -> list[tuple[str, str]]:
    """Searches for a paper by its title on arXiv and Hugging Face: (label, URL)."""
    query = query_value(title)
    return [
        ("arXiv", f"https://arxiv.org/search/?query={query}&searchtype=title"),
        ("Hugging Face", f"https://huggingface.co/papers?q={query}"),
    ]


# What quote_plus makes of each ASCII character: letters, digits and "_.-~" stay, a space becomes "+".
_QUERY_ASCII = {
    code: "+" if code == 32 else chr(code) if chr(code).isalnum() or chr(code) in "_.-~" else f"%{code:02X}"
    for code in range(128)
}


def query_value(text: str) -> str:
    """urllib.parse.quote_plus(text), several times faster for ASCII text (each paper page quotes a title)."""
    return text.translate(_QUERY_ASCII) if text.isascii() else quote_plus(text)


def arxiv_links(arxiv_id: str) -> list[tuple[str, str]]:
    """Abstract, PDF and Hugging Face pages of an arXiv paper: (label, URL)."""
    bare = re.sub(r"v\d+$", "", arxiv_id)
    return [
        ("arXiv abstract", f"https://arxiv.org/abs/{arxiv_id}"),
        ("PDF", f"https://arxiv.org/pdf/{arxiv_id}"),
        ("Hugging Face paper page", f"https://huggingface.co/papers/{bare}"),
    ]
