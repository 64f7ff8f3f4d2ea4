"""Web search behind one interface: SearXNG, Brave, Serper, DuckDuckGo's HTML page.

``WebSearch`` tries its providers in order (SearXNG when ``SEARXNG_URL`` is set,
Brave and Serper when their keys are, DuckDuckGo's keyless HTML endpoint last) and
returns the first one's five results; when none answers the tool fails with a clear
``ToolUnavailable``. ``fetch`` reads one page as readable text with a size cap, and
only from public addresses (a tool must not become a way into the local network).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlparse

import httpx

from companion.tools.errors import ToolError, ToolUnavailable
from companion.tools.readable import readable_text

__all__ = [
    "BraveSearch",
    "DuckDuckGoSearch",
    "SearXNGSearch",
    "SearchProvider",
    "SearchResult",
    "SerperSearch",
    "WebSearch",
]

log = logging.getLogger(__name__)

RESULTS = 5
_AGENT = "Mozilla/5.0 (compatible; Companion/0.1; +https://github.com/)"


@dataclass(frozen=True)
class SearchResult:
    """One hit."""

    title: str
    url: str
    snippet: str


class SearchProvider(Protocol):
    """One search engine."""

    name: str

    async def search(self, http: httpx.AsyncClient, query: str) -> list[SearchResult]:
        """Up to five results; raise on any failure."""
        ...


def _from_json(items: Sequence[Any], *, url: str, snippet: str) -> list[SearchResult]:
    """Results from a JSON API's items, named by each provider's keys for URL and snippet."""
    return _clean(
        [
            SearchResult(str(i.get("title", "")), str(i.get(url, "")), str(i.get(snippet) or ""))
            for i in items
        ]
    )


def _clean(results: Sequence[SearchResult]) -> list[SearchResult]:
    kept = [r for r in results if r.url.startswith(("http://", "https://"))]
    return [
        SearchResult(
            " ".join(r.title.split())[:200], r.url[:500], " ".join(r.snippet.split())[:500]
        )
        for r in kept[:RESULTS]
    ]


class SearXNGSearch:
    """A SearXNG instance's JSON API (``format=json`` must be enabled on it)."""

    name = "searxng"

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    async def search(self, http: httpx.AsyncClient, query: str) -> list[SearchResult]:
        """``GET /search?q=…&format=json``."""
        response = await http.get(f"{self.base_url}/search", params={"q": query, "format": "json"})
        response.raise_for_status()
        items = response.json().get("results") or []
        return _from_json(items, url="url", snippet="content")


class BraveSearch:
    """Brave Search API (``BRAVE_API_KEY``)."""

    name = "brave"
    url = "https://api.search.brave.com/res/v1/web/search"

    def __init__(self, api_key: str, *, url: str | None = None) -> None:
        self.api_key = api_key
        self.url = url or self.url

    async def search(self, http: httpx.AsyncClient, query: str) -> list[SearchResult]:
        """``GET /res/v1/web/search`` with the subscription token."""
        response = await http.get(
            self.url,
            params={"q": query, "count": RESULTS},
            headers={"X-Subscription-Token": self.api_key, "Accept": "application/json"},
        )
        response.raise_for_status()
        items = (response.json().get("web") or {}).get("results") or []
        return _from_json(items, url="url", snippet="description")


class SerperSearch:
    """Serper's Google results (``SERPER_API_KEY``)."""

    name = "serper"
    url = "https://google.serper.dev/search"

    def __init__(self, api_key: str, *, url: str | None = None) -> None:
        self.api_key = api_key
        self.url = url or self.url

    async def search(self, http: httpx.AsyncClient, query: str) -> list[SearchResult]:
        """``POST /search`` with the API key."""
        response = await http.post(
            self.url, json={"q": query, "num": RESULTS}, headers={"X-API-KEY": self.api_key}
        )
        response.raise_for_status()
        items = response.json().get("organic") or []
        return _from_json(items, url="link", snippet="snippet")


class DuckDuckGoSearch:
    """DuckDuckGo's keyless HTML endpoint (the default when nothing is configured)."""

    name = "duckduckgo"
    url = "https://html.duckduckgo.com/html/"

    def __init__(self, *, url: str | None = None) -> None:
        self.url = url or self.url

    async def search(self, http: httpx.AsyncClient, query: str) -> list[SearchResult]:
        """``POST /html/`` and read the result links and snippets from the page."""
        response = await http.post(self.url, data={"q": query}, headers={"User-Agent": _AGENT})
        response.raise_for_status()
        parser = _DuckDuckGoPage()
        parser.feed(response.text)
        return _clean(parser.results())


class _DuckDuckGoPage(HTMLParser):
    """Collects ``a.result__a`` (title, link) and ``.result__snippet`` (text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[dict[str, str]] = []
        self._field: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = (values.get("class") or "").split()
        if tag == "a" and "result__a" in classes:
            self.items.append(
                {"title": "", "url": _ddg_target(values.get("href") or ""), "snippet": ""}
            )
            self._field = "title"
        elif "result__snippet" in classes and self.items:
            self._field = "snippet"

    def handle_endtag(self, tag: str) -> None:
        if tag in {"a", "td", "div"}:
            self._field = None

    def handle_data(self, data: str) -> None:
        if self._field and self.items:
            self.items[-1][self._field] += data

    def results(self) -> list[SearchResult]:
        return [SearchResult(i["title"], i["url"], i["snippet"]) for i in self.items]


def _ddg_target(href: str) -> str:
    """DuckDuckGo links go through ``/l/?uddg=<target>``; return the target."""
    if href.startswith("//"):
        href = "https:" + href
    parsed = urlparse(href)
    if parsed.path.startswith("/l/"):
        target = parse_qs(parsed.query).get("uddg")
        if target:
            return unquote(target[0])
    return href


class WebSearch:
    """The ``web_search`` tool's engine: providers in order, and page fetching."""

    def __init__(
        self,
        providers: Sequence[SearchProvider],
        *,
        timeout: float = 10.0,
        fetch_max_chars: int = 8000,
        allow_private: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.providers = list(providers)
        self.timeout = timeout
        self.fetch_max_chars = fetch_max_chars
        #: Tests point fetches at loopback servers; in production private hosts are refused.
        self.allow_private = allow_private
        self._transport = transport

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self.timeout, follow_redirects=False, transport=self._transport
        )

    async def search(self, query: str) -> tuple[str, list[SearchResult]]:
        """The first provider's results, and its name; ``ToolUnavailable`` if none answers."""
        query = " ".join(query.split())
        if not query:
            raise ToolError("query: must not be empty")
        failures: list[str] = []
        async with self._client() as http:
            for provider in self.providers:
                try:
                    return provider.name, await provider.search(http, query[:400])
                except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as exc:
                    log.warning("search provider %s failed: %s", provider.name, type(exc).__name__)
                    failures.append(f"{provider.name}: {_reason(exc)}")
        raise ToolUnavailable(
            "web search is unavailable (" + "; ".join(failures or ["no provider"]) + ")"
        )

    async def fetch(self, url: str) -> tuple[str, bool]:
        """One page as readable text (at most ``fetch_max_chars``) and whether it was cut."""
        parsed = urlparse(url)
        if parsed.scheme not in {"http", "https"} or not parsed.hostname:
            raise ToolError(f"url {url!r}: only http and https pages can be fetched")
        if not self.allow_private:
            await _require_public(parsed.hostname)
        async with self._client() as http:
            try:
                async with http.stream("GET", url, headers={"User-Agent": _AGENT}) as response:
                    if response.is_redirect:
                        target = response.headers.get("location", "?")
                        raise ToolError(f"the page redirects to {target}; fetch that address")
                    if response.status_code >= 400:
                        raise ToolError(f"the page answered HTTP {response.status_code}")
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > self.fetch_max_chars * 8:
                            break
                    kind = response.headers.get("content-type", "")
            except httpx.HTTPError as exc:
                raise ToolError(f"the page could not be fetched ({_reason(exc)})") from None
        text = body.decode(errors="replace")
        if "html" in kind or text.lstrip()[:1] == "<":
            return readable_text(text, max_chars=self.fetch_max_chars)
        return text[: self.fetch_max_chars], len(text) > self.fetch_max_chars


def _reason(exc: Exception) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.HTTPError):
        return "unreachable"
    return "unexpected answer"


async def _require_public(host: str) -> None:
    """Refuse hosts that resolve to loopback, private, link-local or reserved addresses."""
    try:
        infos: list[Any] = await asyncio.get_running_loop().getaddrinfo(host, None)
    except socket.gaierror:
        raise ToolError(f"host {host!r} does not resolve") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise ToolError(f"host {host!r} is not a public address; not fetched")
