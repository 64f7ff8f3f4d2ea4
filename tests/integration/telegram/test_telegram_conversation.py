"""Conversations over the real Bot API protocol: memory, isolation, chunking, escaping."""

from __future__ import annotations

import html
import json
import random
import re

from tests.integration.telegram.telegram_world import ALICE, BOB, Live

from companion.store.repositories import users

_TAG = re.compile(r"<[^>]+>")


def _parsed(text: str) -> str:
    """What Telegram shows for an HTML message (tags gone, entities decoded)."""
    return html.unescape(_TAG.sub("", text))


async def test_a_private_conversation_remembers_across_turns(live: Live) -> None:
    first = await live.say(ALICE, "Hi! I'm Sam and I love climbing in the Alps.")
    assert first.startswith("echo: Hi! I")
    reply = live.telegram.sent("sendMessage", chat_id=ALICE)[0]
    assert reply.params["parse_mode"] == "HTML"
    assert any(
        c.params.get("action") == "typing"
        for c in live.telegram.sent("sendChatAction", chat_id=ALICE)
    )

    await live.say(ALICE, "What do I love doing?")
    turn = next(
        body
        for body in reversed(live.llm.chat_requests)
        if body["messages"][-1]["content"] == "What do I love doing?"
    )
    earlier = " ".join(str(m.get("content")) for m in turn["messages"][:-1])
    assert "climbing" in earlier  # the first turn is in the second turn's prompt

    user_id = f"telegram:{ALICE}"
    async with live.runtime.db.session() as session:
        user = await users.get_user(session, user_id=user_id)
    assert user.channels["telegram"]["chat_id"] == str(ALICE)
    assert user.channels["telegram"]["kind"] == "dm"

    # An admin reads the user's memories through the HTTP API (the external contract).
    await live.runtime.conversation.drain()
    http, admin = await live.api()
    async with http:
        response = await http.get("/api/memory", params={"user_id": user_id}, headers=admin)
    assert response.status_code == 200
    contents = " ".join(item["content"] for item in response.json()["items"])
    assert "climbing" in contents


async def test_two_telegram_users_never_see_each_other(live: Live) -> None:
    await live.say(ALICE, "My secret hobby is falconry.")
    await live.say(BOB, "I collect antique maps.")
    await live.runtime.conversation.drain()

    alice_memories = await live.say(ALICE, "/memories")
    bob_memories = await live.say(BOB, "/memories")
    assert "falconry" in alice_memories and "maps" not in alice_memories
    assert "maps" in bob_memories and "falconry" not in bob_memories

    live.telegram.private_message(BOB, "/export")
    (document,) = await live.telegram.wait_for("sendDocument", chat_id=BOB)
    exported = json.loads(document.files["document"])
    dumped = json.dumps(exported)
    assert f"telegram:{BOB}" in dumped and "maps" in dumped
    assert f"telegram:{ALICE}" not in dumped and "falconry" not in dumped

    # Bob cannot forget Alice's memory, even with its id.
    alice_memory = re.search(r"/forget ([0-9a-f-]{36})", alice_memories)
    assert alice_memory is not None
    answers = len(live.telegram.sent("answerCallbackQuery"))
    live.telegram.callback(BOB, f"forget:{BOB}:{alice_memory.group(1)}")
    calls = await live.telegram.wait_for("answerCallbackQuery", count=answers + 1)
    assert calls[-1].params["text"] == "I couldn't find that."
    assert alice_memory.group(1) in await live.say(ALICE, "/memories")

    # Bob's prompt never carries Alice's words.
    bob_turns = [
        b
        for b in live.llm.chat_requests
        if b["messages"][-1]["content"] == "I collect antique maps."
    ]
    assert bob_turns and "falconry" not in json.dumps(bob_turns)


async def test_long_replies_are_split_and_markup_is_escaped(live: Live) -> None:
    # Varied sentences (a repeated one would be cut by the loop guard as a looping model).
    words = (
        "rock rope harness chalk ledge summit belay anchor granite crack slab overhang "
        "patience balance breath grip fear trust partner morning valley wind shadow light "
        "careful steady slow quick high low cold warm old new quiet loud"
    ).split()
    pick = random.Random(7)

    def paragraph() -> str:  # ~2,000 characters
        sentences = [" ".join(pick.choices(words, k=pick.randint(7, 11))) for _ in range(30)]
        return " ".join(s.capitalize() + "." for s in sentences)

    long_reply = "\n\n".join(
        [
            "**Bold start** and `code` with a <script>alert(1)</script> & a < b > c.",
            *(paragraphs := [paragraph() for _ in range(6)]),
            "The end, with _emphasis_ and an unclosed * star.",
        ]
    )
    live.llm.scripted["Tell me everything about climbing"] = long_reply
    before = len(live.telegram.sent("sendMessage", chat_id=ALICE))
    live.telegram.private_message(ALICE, "Tell me everything about climbing")
    await live.telegram.wait_for("sendMessage", chat_id=ALICE, contains="The end")
    chunks = [c.text for c in live.telegram.sent("sendMessage", chat_id=ALICE)[before:]]
    assert len(chunks) >= 3
    assert all(len(_parsed(chunk)) <= 4096 for chunk in chunks)
    first, last = chunks[0], chunks[-1]
    assert first.startswith("<b>Bold start</b> and <code>code</code>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; a &lt; b &gt; c." in first
    assert "<script>" not in "".join(chunks)
    assert "<i>emphasis</i>" in last and "unclosed * star." in last
    # Nothing lost: the shown text has every sentence of the reply, in order.
    shown = " ".join(" ".join(_parsed(c) for c in chunks).split())
    where = [shown.find(" ".join(p.split())) for p in paragraphs]
    assert -1 not in where and where == sorted(where)


async def test_a_refused_message_goes_out_once_more_as_plain_text(live: Live) -> None:
    # Telegram refuses the HTML version of the reply (as it does for markup it cannot
    # parse); the same words are sent again without markup, never silence.
    live.telegram.fail(
        "sendMessage", 400, "Bad Request: can't parse entities", chat_id=BOB, parse_mode="HTML"
    )
    live.telegram.private_message(BOB, "Hello there, how are you?")
    calls = await live.telegram.wait_for("sendMessage", chat_id=BOB, count=2)
    refused, plain = calls[-2], calls[-1]
    assert refused.params.get("parse_mode") == "HTML"
    assert "parse_mode" not in plain.params
    assert plain.text == _parsed(refused.text)
