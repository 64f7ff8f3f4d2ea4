"""The tool agent: web search, sandboxed Python, workspace files, time and memory search.

``agent.ToolAgent`` is the pipeline's optional tool step (``ToolPort``): for users
allowed to use tools it lets the chat model call tools for at most three rounds
(OpenAI ``tools`` where the provider supports them, a constrained-JSON protocol
otherwise) and hands the results to the reply as fenced data. ``build.build_tools``
wires it from settings. Modules: ``sandbox`` (bubblewrap), ``workspace`` (files),
``search`` + ``readable`` (web), ``registry`` (specs, validation, execution),
``builtin`` (the five tools), ``jsonmode`` (the fallback protocol), ``calls``
(the ``tool_calls`` record).
"""

from __future__ import annotations

__all__: list[str] = []
