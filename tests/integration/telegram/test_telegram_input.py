"""Bad input gets a clear reply and stores nothing; groups; one answer at a time."""

from __future__ import annotations

import asyncio
import json

from tests.fakes.telegram_server import BOT_USERNAME
from tests.integration.telegram.telegram_world import ALICE, BOB, Live

from companion.channels.telegram import texts


async def test_bad_input_is_answered_and_nothing_is_stored(live: Live) -> None:
    user = BOB
    too_long = await live.say(user, "x" * 4001)
    assert too_long == texts.too_long(4001) and "4,000" in too_long
    assert await live.say(user, "/dance") == texts.unknown_command("/dance")

    live.telegram.edited_message(user, "what I really meant")
    edited = await live.telegram.wait_for("sendMessage", chat_id=user, contains="edited")
    assert edited[-1].text == texts.EDITED

    photo = [{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}]
    sticker = {
        "file_id": "s1", "file_unique_id": "s1u", "width": 512, "height": 512,
        "is_animated": False, "is_video": False, "type": "regular",
    }  # fmt: skip
    voice = {"file_id": "v1", "file_unique_id": "v1u", "duration": 3}
    for media in ({"photo": photo}, {"sticker": sticker}, {"voice": voice}):
        before = len(live.telegram.sent("sendMessage", chat_id=user))
        live.telegram.private_message(user, None, **media)
        calls = await live.telegram.wait_for("sendMessage", chat_id=user, count=before + 1)
        assert calls[before].text == texts.NOT_TEXT

    answers = len(live.telegram.sent("answerCallbackQuery"))
    live.telegram.callback(user, "something-else:42")
    calls = await live.telegram.wait_for("answerCallbackQuery", count=answers + 1)
    assert calls[-1].params["text"] == texts.FOREIGN_BUTTON

    assert not await live.exists(f"telegram:{user}")
    assert not live.llm.chat_requests


async def test_groups_answer_mentions_and_replies_only(live: Live) -> None:
    group = -100777
    live.telegram.group_message(ALICE, group, "just chatting among ourselves")
    live.telegram.group_message(ALICE, group, f"@{BOT_USERNAME} what's the weather like?")
    (reply,) = await live.telegram.wait_for("sendMessage", chat_id=group)
    assert reply.text == "echo: what's the weather like?"
    assert "@" not in reply.text
    assert reply.params["reply_parameters"]["message_id"] > 0  # quotes the message in groups

    earlier = live.telegram.bot_message(group, "echo: hi")
    live.telegram.group_message(ALICE, group, "and tomorrow?", reply_to_message=earlier)
    calls = await live.telegram.wait_for("sendMessage", chat_id=group, count=2)
    assert calls[1].text == "echo: and tomorrow?"

    live.telegram.group_message(BOB, group, f"@{BOT_USERNAME}")
    calls = await live.telegram.wait_for("sendMessage", chat_id=group, count=3)
    assert calls[2].text == texts.EMPTY
    await live.telegram.drained()
    # The unaddressed message never became a turn.
    assert not [
        b for b in live.llm.chat_requests if "among ourselves" in b["messages"][-1]["content"]
    ]
    assert not await live.exists(f"telegram:{BOB}")


async def test_a_second_message_while_thinking_gets_the_notice(live: Live) -> None:
    live.llm.hold("Think about this slowly")
    live.telegram.private_message(ALICE, "Think about this slowly")
    while not any(
        b["messages"][-1]["content"] == "Think about this slowly" for b in live.llm.chat_requests
    ):
        await live.telegram.drained()
        await asyncio.sleep(0.05)
    busy = await live.say(ALICE, "Are you there?")
    assert busy == texts.BUSY
    live.llm.let_go("Think about this slowly")
    calls = await live.telegram.wait_for("sendMessage", chat_id=ALICE, count=2)
    assert calls[1].text == "echo: Think about this slowly"
    # The notice was not a turn: only the first message reached the model.
    assert not [b for b in live.llm.chat_requests if "Are you there" in json.dumps(b)]
