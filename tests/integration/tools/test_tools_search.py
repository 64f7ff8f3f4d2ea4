"""Web search against a loopback SearXNG (and DuckDuckGo-shaped) server; page fetching."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from tests.fakes.searxng_server import FakeSearXNG

from companion.tools.errors import ToolError, ToolUnavailable
from companion.tools.search import DuckDuckGoSearch, SearXNGSearch, WebSearch


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_searxng_gives_five_results(searxng_server: FakeSearXNG) -> None:
    search = WebSearch([SearXNGSearch(searxng_server.url)], allow_private=True)
    provider, results = await search.search("  the   answer ")
    assert provider == "searxng"
    assert searxng_server.queries == ["the answer"]
    assert len(results) == 5
    assert results[0].title == "Result 1 about the answer"
    assert results[0].url == f"{searxng_server.url}/page/1"
    assert results[0].snippet == "Snippet 1: the answer explained."


async def test_fetching_a_page_gives_readable_text_within_the_cap(
    searxng_server: FakeSearXNG,
) -> None:
    search = WebSearch([SearXNGSearch(searxng_server.url)], allow_private=True, fetch_max_chars=500)
    text, truncated = await search.fetch(f"{searxng_server.url}/page/2")
    assert "The answer on page 2 is 42." in text and not truncated
    assert "secret" not in text and "color" not in text
    searxng_server.page_html = "<p>" + "word " * 5000 + "</p>"
    text, truncated = await search.fetch(f"{searxng_server.url}/page/3")
    assert truncated and len(text) == 500


async def test_private_addresses_are_not_fetched(searxng_server: FakeSearXNG) -> None:
    search = WebSearch([SearXNGSearch(searxng_server.url)])
    with pytest.raises(ToolError, match="not a public address"):
        await search.fetch(f"{searxng_server.url}/page/1")
    with pytest.raises(ToolError, match="only http and https"):
        await search.fetch("file:///etc/passwd")
    assert not any(r.path.startswith("/page/") for r in searxng_server.requests)


async def test_a_failing_engine_falls_through_to_the_next(searxng_server: FakeSearXNG) -> None:
    searxng_server.status = 500
    duck = DuckDuckGoSearch(url=f"{searxng_server.url}/html/")
    search = WebSearch([SearXNGSearch(searxng_server.url), duck], allow_private=True)
    provider, results = await search.search("ducks")
    assert provider == "duckduckgo"
    assert len(results) == 5
    assert results[0].title == "Duck result 1"
    assert results[0].url == f"{searxng_server.url}/page/1"  # the redirect target, decoded
    assert results[0].snippet == "Duck snippet 1"


async def test_nothing_reachable_is_a_clear_tool_error(searxng_server: FakeSearXNG) -> None:
    searxng_server.status = 503
    duck = DuckDuckGoSearch(url=f"{_closed_port_url()}/html/")
    search = WebSearch([SearXNGSearch(searxng_server.url), duck], timeout=2.0)
    with pytest.raises(
        ToolUnavailable,
        match=r"web search is unavailable \(searxng: HTTP 503; "
        r"duckduckgo: unreachable\)",
    ):
        await search.search("anything")


def _cli(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    full = {
        **os.environ,
        "COMPANION_ENV_FILE": "",
        "COMPANION_HOME": str(tmp_path / "home"),
        "TOOLS_WORKSPACE_DIR": str(tmp_path / "workspaces"),
        **env,
    }
    command = [sys.executable, "-m", "companion.cli", "tools", *args]
    return subprocess.run(command, env=full, capture_output=True, text=True, timeout=120)


def test_cli_search_prints_the_results_as_json(searxng_server: FakeSearXNG, tmp_path: Path) -> None:
    done = _cli(["search", "cats"], {"SEARXNG_URL": searxng_server.url}, tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["ok"] and data["provider"] == "searxng" and len(data["results"]) == 5
    searxng_server.status = 500
    failed = _cli(
        ["search", "cats"],
        {"SEARXNG_URL": searxng_server.url, "TOOLS_SEARCH_TIMEOUT_SECONDS": "2"},
        tmp_path,
    )
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["ok"] is False


@pytest.mark.skipif(not Path("/usr/bin/bwrap").exists(), reason="bubblewrap not installed")
def test_cli_python_runs_in_the_sandbox(tmp_path: Path) -> None:
    code = (
        "import os\nopen('/workspace/out.txt', 'w').write('hi')\n"
        "print(sorted(os.listdir('/workspace')))"
    )
    done = _cli(["python", "--user", "carol", "--code", code], {}, tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["ok"] is True and data["exit_code"] == 0
    assert data["stdout"].strip() == "['out.txt']"
    assert data["timed_out"] is False and data["truncated"] is False
    assert set(data) >= {"ok", "stdout", "stderr", "exit_code", "timed_out", "truncated"}


def test_doctor_reports_bubblewrap_and_the_engines(tmp_path: Path) -> None:
    from companion.settings import load_settings
    from companion.tools.build import doctor_rows

    rows = {name: (status, details) for name, status, details in doctor_rows(load_settings(None))}
    status, details = rows["bubblewrap"]
    if shutil.which("bwrap"):
        assert status == "ok" and "bubblewrap" in details
    else:
        assert status == "warn" and "run_python is disabled" in details
    assert rows["web search"][1].endswith("duckduckgo")
