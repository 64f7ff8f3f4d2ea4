"""A Telegram Bot API server on loopback, scriptable from tests.

It speaks the real protocol over real sockets: ``POST /bot<token>/<method>`` with
form-encoded or multipart bodies (what python-telegram-bot sends), answered with
``{"ok": true, "result": …}`` or ``{"ok": false, "error_code": …, "description": …}``.
Point the bot at it with ``TELEGRAM_API_URL=server.url``.

Methods: ``getMe``, ``getUpdates`` (long polling over queued updates, honouring
``offset``), ``sendMessage``, ``sendChatAction``, ``setMyCommands``,
``editMessageText``, ``answerCallbackQuery``, ``sendDocument``, ``deleteWebhook``,
``setWebhook``; any other method answers ``true``. Every call is recorded in
``calls`` as ``Call(method, params)`` with JSON-valued parameters decoded.

Scripting::

    server.private_message(42, "hello")             # queue an update from user 42
    server.group_message(7, -100, "@companion_bot hi") # in a group, with a mention
    server.callback(42, "forget:42:all")             # an inline-keyboard press
    server.fail("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=42)
    sent = await server.wait_for("sendMessage", chat_id=42)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes._http import LoopbackServer, RecordedRequest, Response

__all__ = ["BOT_ID", "BOT_USERNAME", "Call", "FakeTelegramServer"]

BOT_ID = 777000111
BOT_USERNAME = "companion_test_bot"
_JSON_FIELDS = {
    "reply_markup",
    "reply_parameters",
    "commands",
    "scope",
    "entities",
    "link_preview_options",
}


@dataclass
class Call:
    """One Bot API call the fake received."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def chat_id(self) -> int | None:
        """The ``chat_id`` parameter as an int (None when absent)."""
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        """The ``text`` (or ``caption``) parameter."""
        return str(self.params.get("text") or self.params.get("caption") or "")


def _decode_value(name: str, value: str) -> Any:
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _parse(request: RecordedRequest) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Form, multipart or JSON parameters of a request, and any uploaded files."""
    body = request.body
    if isinstance(body, dict):
        return body, {}
    if not body:
        return {}, {}
    ctype = next((v for k, v in request.headers.items() if k.lower() == "content-type"), "")
    if ctype.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + body
        )
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename():
                files[str(name)] = payload
            else:
                params[str(name)] = _decode_value(str(name), payload.decode())
        return params, files
    pairs = parse_qsl(body.decode() if isinstance(body, bytes) else str(body))
    return {k: _decode_value(k, v) for k, v in pairs}, {}


class FakeTelegramServer(LoopbackServer):
    """See the module docstring."""

    def __init__(self, *, token: str = "123456:TEST-token") -> None:
        super().__init__()
        self.token = token
        self.calls: list[Call] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._failures: list[tuple[str, int, str, dict[str, Any]]] = []
        self._cond = threading.Condition()
        #: How long an empty ``getUpdates`` waits at most (short: fast teardown).
        self.max_poll_wait = 0.3
        self._server.handle_error = self._quiet_disconnect  # type: ignore[method-assign]

    def _quiet_disconnect(self, request: Any, client_address: Any) -> None:
        """A bot that stops mid long poll hangs up on us; that is not an error."""
        error = sys.exc_info()[1]
        if not isinstance(error, (BrokenPipeError, ConnectionResetError)):
            traceback.print_exc()

    @property
    def api_url(self) -> str:
        """The value for ``TELEGRAM_API_URL``."""
        return self.url

    # -- scripting -------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> int:
        """Queue a raw update (its ``update_id`` is assigned); returns the id."""
        with self._cond:
            update_id = next(self._update_ids)
            self._updates.append({"update_id": update_id, **update})
            self._cond.notify_all()
        return update_id

    def _message(
        self, user_id: int, chat: dict[str, Any], text: str | None, **extra: Any
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": f"User{user_id}",
                "username": f"user{user_id}",
            },
            **extra,
        }
        if text is not None:
            message["text"] = text
            entities = []
            if text.startswith("/"):
                entities.append(
                    {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
                )
            mention = f"@{BOT_USERNAME}"
            if mention in text:
                entities.append(
                    {"type": "mention", "offset": text.index(mention), "length": len(mention)}
                )
            if entities:
                message["entities"] = entities
        return message

    def private_update(self, user_id: int, text: str | None, **extra: Any) -> dict[str, Any]:
        """A private-message update, not queued (for webhook tests)."""
        chat = {"id": user_id, "type": "private", "first_name": f"User{user_id}"}
        return {
            "update_id": 10_000 + next(self._update_ids),
            "message": self._message(user_id, chat, text, **extra),
        }

    def private_message(self, user_id: int, text: str | None, **extra: Any) -> int:
        """A message from ``user_id`` in its private chat with the bot (chat id = user id)."""
        chat = {"id": user_id, "type": "private", "first_name": f"User{user_id}"}
        return self.push({"message": self._message(user_id, chat, text, **extra)})

    def group_message(self, user_id: int, chat_id: int, text: str | None, **extra: Any) -> int:
        """A message from ``user_id`` in the group ``chat_id``."""
        chat = {"id": chat_id, "type": "supergroup", "title": "A group"}
        return self.push({"message": self._message(user_id, chat, text, **extra)})

    def bot_message(self, chat_id: int, text: str) -> dict[str, Any]:
        """A message as the bot sent it (for ``reply_to_message``)."""
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "supergroup", "title": "A group"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Companion"},
            "text": text,
        }

    def edited_message(self, user_id: int, text: str) -> int:
        """An edit of an earlier private message."""
        chat = {"id": user_id, "type": "private", "first_name": f"User{user_id}"}
        message = self._message(user_id, chat, text, edit_date=int(time.time()))
        return self.push({"edited_message": message})

    def callback(self, user_id: int, data: str, *, chat_id: int | None = None) -> int:
        """A press on an inline-keyboard button under a bot message."""
        chat = chat_id if chat_id is not None else user_id
        return self.push(
            {
                "callback_query": {
                    "id": f"cb{next(self._message_ids)}",
                    "from": {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"},
                    "chat_instance": f"ci{chat}",
                    "data": data,
                    "message": {
                        "message_id": next(self._message_ids),
                        "date": int(time.time()),
                        "chat": {"id": chat, "type": "private"},
                        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Companion"},
                        "text": "a question with buttons",
                    },
                }
            }
        )

    def fail(self, method: str, code: int, description: str, **match: Any) -> None:
        """Answer the next ``method`` call whose params include ``match`` with an error."""
        with self._cond:
            self._failures.append((method, code, description, match))

    # -- inspection ------------------------------------------------------------------

    def sent(self, method: str = "sendMessage", *, chat_id: int | None = None) -> list[Call]:
        """Recorded calls of ``method`` (to ``chat_id`` if given)."""
        return [
            c
            for c in list(self.calls)
            if c.method == method and (chat_id is None or c.chat_id == chat_id)
        ]

    async def wait_for(
        self,
        method: str = "sendMessage",
        *,
        chat_id: int | None = None,
        count: int = 1,
        contains: str | None = None,
        timeout: float = 60.0,
    ) -> list[Call]:
        """Wait until ``count`` matching calls were received; returns all matching calls."""
        deadline = time.monotonic() + timeout
        while True:
            found = [
                c
                for c in self.sent(method, chat_id=chat_id)
                if contains is None or contains in c.text
            ]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                seen = [(c.method, c.chat_id, c.text[:80]) for c in self.calls[-10:]]
                raise AssertionError(
                    f"no {count}x {method} to {chat_id} ({contains!r}); got {seen}"
                )
            await asyncio.sleep(0.02)

    async def drained(self, timeout: float = 30.0) -> None:
        """Wait until the bot has fetched every queued update."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                if not self._updates:
                    return
            if time.monotonic() > deadline:
                raise AssertionError("the bot did not fetch the queued updates")
            await asyncio.sleep(0.02)

    # -- protocol --------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Response:
        """Route ``/bot<token>/<method>``."""
        prefix = f"/bot{self.token}/"
        if not request.path.startswith(prefix):
            return self._error(404, "Not Found")
        method = request.path[len(prefix) :].split("?")[0]
        params, files = _parse(request)
        call = Call(method, params, files)
        self.calls.append(call)
        failure = self._take_failure(method, params)
        if failure is not None:
            return self._error(*failure)
        answer = getattr(self, f"_m_{method}", None)
        result = answer(params) if answer is not None else True
        return Response(body={"ok": True, "result": result})

    def _take_failure(self, method: str, params: dict[str, Any]) -> tuple[int, str] | None:
        with self._cond:
            for index, (name, code, description, match) in enumerate(self._failures):
                if name == method and all(str(params.get(k)) == str(v) for k, v in match.items()):
                    del self._failures[index]
                    return code, description
        return None

    @staticmethod
    def _error(code: int, description: str) -> Response:
        body = {"ok": False, "error_code": code, "description": description}
        return Response(status=code, body=body)

    def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Companion",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), self.max_poll_wait)
        deadline = time.monotonic() + wait
        with self._cond:
            while True:
                # An offset confirms (drops) every update before it, as Telegram does.
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if self._updates or self.released.is_set():
                    return list(self._updates)
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                self._cond.wait(left)

    def _sent_message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        chat_id = int(params.get("chat_id", 0))
        chat_type = "private" if chat_id > 0 else "supergroup"
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Companion"},
            **extra,
        }

    def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._sent_message(params, text=str(params.get("text", "")))

    def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if "inline_message_id" in params:
            return True
        return self._sent_message(params, text=str(params.get("text", "")))

    def _m_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        document = {"file_id": "doc1", "file_unique_id": "doc1u", "file_name": "export.json"}
        return self._sent_message(params, document=document)
