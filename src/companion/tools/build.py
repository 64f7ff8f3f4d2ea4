"""``build_tools``: the tool agent wired from settings (None when turned off)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from companion.conversation.budget import TokenBudget
from companion.tools.access import ToolAccess
from companion.tools.agent import ToolAgent
from companion.tools.builtin import builtin_tools
from companion.tools.calls import CallRecorder
from companion.tools.registry import Screen, ToolRegistry
from companion.tools.sandbox import PythonSandbox, SandboxLimits
from companion.tools.search import (
    BraveSearch,
    DuckDuckGoSearch,
    SearchProvider,
    SearXNGSearch,
    SerperSearch,
    WebSearch,
)
from companion.tools.workspace import Workspace

if TYPE_CHECKING:
    from companion.conversation.ports import MemoryPort, SecurityPort
    from companion.settings import Settings
    from companion.store.database import Database

__all__ = [
    "account_folders",
    "build_tools",
    "make_sandbox",
    "make_search",
    "make_workspace",
    "security_screen",
]

log = logging.getLogger(__name__)
_MB = 1024 * 1024


def make_workspace(settings: Settings) -> Workspace:
    """The per-user workspaces (``TOOLS_WORKSPACE_DIR`` or ``$COMPANION_HOME/workspaces``)."""
    tools = settings.tools
    root = tools.tools_workspace_dir or Path(settings.core.companion_home) / "workspaces"
    return Workspace(
        root.expanduser(),
        file_max_bytes=tools.tools_file_max_mb * _MB,
        user_max_bytes=tools.tools_workspace_max_mb * _MB,
    )


def account_folders(settings: Settings, user_id: str) -> list[Path]:
    """The folders on disk that belong to ``user_id`` (removed with the account)."""
    return [make_workspace(settings).folder(user_id)]


def make_sandbox(settings: Settings, workspace: Workspace | None = None) -> PythonSandbox:
    """The Python sandbox with the configured limits."""
    tools = settings.tools
    limits = SandboxLimits(
        timeout=tools.tool_timeout_seconds,
        cpu_seconds=max(1, int(tools.tool_timeout_seconds)),
        memory_bytes=tools.tools_memory_mb * _MB,
        processes=tools.tools_max_processes,
        file_bytes=tools.tools_file_max_mb * _MB,
        output_chars=tools.tools_output_max_chars,
    )
    return PythonSandbox(
        workspace=workspace or make_workspace(settings),
        python=tools.tools_sandbox_python,
        limits=limits,
        sandbox_user=tools.tools_sandbox_user,
    )


def make_search(settings: Settings, *, allow_private: bool = False) -> WebSearch:
    """Configured engines first, DuckDuckGo's HTML endpoint last (keyless)."""
    tools = settings.tools
    providers: list[SearchProvider] = []
    if tools.searxng_url:
        providers.append(SearXNGSearch(tools.searxng_url))
    if tools.brave_api_key:
        providers.append(BraveSearch(tools.brave_api_key))
    if tools.serper_api_key:
        providers.append(SerperSearch(tools.serper_api_key))
    providers.append(DuckDuckGoSearch())
    return WebSearch(
        providers,
        timeout=tools.tools_search_timeout_seconds,
        fetch_max_chars=tools.tools_fetch_max_chars,
        allow_private=allow_private,
    )


def security_screen(security: Any, threshold: float) -> Screen | None:
    """The injection detector as a tool-output screen (None without a classifier)."""
    classify = getattr(security, "classify", None)
    if classify is None:
        return None

    async def screen(text: str) -> bool:
        detection = await classify(text)
        return bool(detection.flagged(threshold))

    return screen


def make_registry(
    *,
    settings: Settings,
    db: Database,
    memory: MemoryPort | None,
    security: SecurityPort | None,
    specs: Sequence[Any] | None = None,
) -> ToolRegistry:
    """Every tool available in this process, recording to ``tool_calls``."""
    workspace = make_workspace(settings)
    sandbox = make_sandbox(settings, workspace)
    reason = sandbox.unavailable()
    if reason is not None:
        log.warning(reason)
    tools = (
        list(specs)
        if specs is not None
        else builtin_tools(
            search=make_search(settings),
            sandbox=sandbox,
            workspace=workspace,
            memory=memory,
        )
    )
    return ToolRegistry(
        tools,
        recorder=CallRecorder(db),
        screen=security_screen(security, settings.security.security_confidence_threshold),
        timeout=settings.tools.tool_timeout_seconds + 30,
    )


async def build_tools(
    *,
    settings: Settings,
    db: Database,
    models: Any = None,
    memory: MemoryPort | None = None,
    security: SecurityPort | None = None,
) -> ToolAgent | None:
    """The pipeline's tool step, or None when ``TOOLS_ENABLED=false``."""
    tools = settings.tools
    if not tools.tools_enabled:
        return None
    chat = getattr(models, "chat", None)
    return ToolAgent(
        chat=chat,
        registry=make_registry(settings=settings, db=db, memory=memory, security=security),
        access=ToolAccess.of(enabled=True, public=tools.tools_public, users=tools.tools_users),
        db=db,
        max_rounds=tools.tools_max_rounds,
        budget=TokenBudget.for_context(settings.llm.local_model_context),
        small_models=tools.tools_small_model,
    )


def doctor_rows(settings: Settings) -> list[tuple[str, str, str]]:
    """``companion doctor``'s lines for the tools: bubblewrap and the search engines."""
    import shutil
    import subprocess

    rows: list[tuple[str, str, str]] = []
    if not settings.tools.tools_enabled:
        return [("tools", "off", "TOOLS_ENABLED=false")]
    bwrap = shutil.which("bwrap")
    sandbox = make_sandbox(settings)
    reason = sandbox.unavailable()
    if bwrap is None:
        rows.append(
            ("bubblewrap", "warn", "not installed (apt-get install bubblewrap): " + (reason or ""))
        )
    else:
        version = subprocess.run([bwrap, "--version"], capture_output=True, text=True, check=False)
        details = f"{version.stdout.strip()} at {bwrap}"
        rows.append(
            (
                "bubblewrap",
                "warn" if reason else "ok",
                f"{details}; {reason}" if reason else details,
            )
        )
    engines = [p.name for p in make_search(settings).providers]
    rows.append(("web search", "ok", " → ".join(engines)))
    return rows
