"""A SearXNG instance on loopback: its JSON search API, plus pages to fetch.

``GET /search?q=…&format=json`` answers ``{"query": …, "results": [...]}`` in
SearXNG's shape (``title``, ``url``, ``content``, ``engine``); the result URLs point
back at this server's ``/page/<n>`` HTML pages, so fetching one is a real request.
``status`` makes every search answer that HTTP status; ``page_html`` replaces the
pages' HTML. ``POST /html/`` answers like DuckDuckGo's HTML endpoint.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlparse

from tests.fakes._http import LoopbackServer, RecordedRequest, Response

__all__ = ["FakeSearXNG"]


class FakeSearXNG(LoopbackServer):
    """See the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        self.status = 200
        self.page_html: str | None = None
        self.result_count = 8

    @property
    def queries(self) -> list[str]:
        """The ``q`` of every search received."""
        found = []
        for request in self.requests:
            query = parse_qs(urlparse(request.path).query).get("q")
            if query:
                found.append(query[0])
        return found

    def handle(self, request: RecordedRequest) -> Response:
        """Route one request."""
        path = urlparse(request.path).path
        if path == "/search":
            return self._search(request)
        if path.startswith("/page/"):
            return Response(body=self._page(path.rsplit("/", 1)[-1]), headers=_HTML)
        if path == "/html/" and request.method == "POST":
            return Response(body=self._duckduckgo(), headers=_HTML)
        return Response(status=404, body={"error": "not found"})

    def _search(self, request: RecordedRequest) -> Response:
        if self.status != 200:
            return Response(status=self.status, body={"error": "scripted"})
        params = parse_qs(urlparse(request.path).query)
        if params.get("format") != ["json"]:
            return Response(status=403, body=b"Forbidden")  # like SearXNG without JSON
        query = params.get("q", [""])[0]
        results = [
            {
                "title": f"Result {n} about {query}",
                "url": f"{self.url}/page/{n}",
                "content": f"Snippet {n}: {query} explained.",
                "engine": "fake",
            }
            for n in range(1, self.result_count + 1)
        ]
        return Response(
            body={"query": query, "number_of_results": len(results), "results": results}
        )

    def _page(self, number: str) -> str:
        if self.page_html is not None:
            return self.page_html
        return (
            f"<html><head><title>Page {number}</title><style>p {{color: red}}</style></head>"
            f"<body><script>var secret = 1;</script><h1>Page {number}</h1>"
            f"<p>The answer on page {number} is 42.</p></body></html>"
        )

    def _duckduckgo(self) -> str:
        rows = "".join(
            f'<div class="result"><h2><a class="result__a" rel="nofollow" '
            f'href="//duckduckgo.com/l/?uddg={quote(self.url + "/page/" + str(n), safe="")}'
            f'&amp;rut=x">Duck result {n}</a></h2>'
            f'<a class="result__snippet" href="#">Duck snippet <b>{n}</b></a></div>'
            for n in range(1, 7)
        )
        return f"<html><body>{rows}</body></html>"


_HTML = {"Content-Type": "text/html; charset=utf-8"}
