"""Slash command callbacks with a minimal interaction: each shows only the caller's data."""

from __future__ import annotations

import json

import pytest
from discord import app_commands
from discord_fakes import FakeClient, FakeInteraction, FakeUser

from companion.channels import MemoryItem
from companion.channels.discord import CompanionBot
from companion.errors import InvalidInput, NotFound

ALICE, BOB = 1001, 2002


def cog(bot: CompanionBot, name: str) -> object:
    found = bot.get_cog(name)
    assert found is not None, name
    return found


def command(bot: CompanionBot, path: str) -> app_commands.Command:  # type: ignore[type-arg]
    found = bot.tree.get_command(path.split()[0])
    for part in path.split()[1:]:
        assert isinstance(found, app_commands.Group)
        found = found.get_command(part)
    assert isinstance(found, app_commands.Command), path
    return found


async def invoke(
    bot: CompanionBot, path: str, interaction: FakeInteraction, **options: object
) -> None:
    cmd = command(bot, path)
    await cmd.callback(cmd.binding, interaction, **options)  # type: ignore[arg-type]


def test_every_command_is_registered(bot: CompanionBot) -> None:
    names = {c.qualified_name for c in bot.tree.walk_commands()}
    assert {
        "companion status",
        "companion setup",
        "companion list",
        "companion switch",
        "memories recent",
        "memories search",
        "forget",
        "personality",
        "proactive on",
        "proactive off",
        "proactive quiet",
        "proactive timezone",
        "reset",
        "export",
        "delete-my-data",
        "companion-admin status",
    } <= names


async def test_status_and_setup(bot: CompanionBot, fake: FakeClient) -> None:
    alice = FakeInteraction(bot, FakeUser(ALICE))
    await invoke(bot, "companion setup", alice, preset="creative_collaborator")
    assert fake.presets == {f"discord:{ALICE}": "creative_collaborator"}
    await invoke(bot, "companion status", alice)
    embed = alice.replies[-1]["embed"]
    assert alice.replies[-1]["ephemeral"] is True
    assert embed.title == "Ava feels content"
    assert "social" in embed.fields[1].value
    assert embed.footer.text.endswith("creative_collaborator")


async def test_memories_are_the_callers_own(bot: CompanionBot, fake: FakeClient) -> None:
    fake.memory[f"discord:{ALICE}"] = [
        MemoryItem("m1", "Alice loves tea"),
        MemoryItem("m2", "Alice has a cat"),
    ]
    fake.memory[f"discord:{BOB}"] = [MemoryItem("m9", "Bob's secret")]
    alice = FakeInteraction(bot, FakeUser(ALICE))
    await invoke(bot, "memories recent", alice, limit=10)
    text = alice.replies[-1]["content"]
    assert "`m1` Alice loves tea" in text and "Bob" not in text
    await invoke(bot, "memories search", alice, query="cat", limit=5)
    text = alice.replies[-1]["content"]
    assert "Alice has a cat" in text and "tea" not in text


async def test_forget_needs_the_owners_confirmation(bot: CompanionBot, fake: FakeClient) -> None:
    fake.memory[f"discord:{ALICE}"] = [MemoryItem("m1", "tea"), MemoryItem("m2", "cat")]
    alice = FakeInteraction(bot, FakeUser(ALICE))
    await invoke(bot, "forget", alice, target="all")
    view = alice.replies[-1]["view"]
    assert type(view).__name__ == "ConfirmForget"  # load_extension imports its own copy
    assert len(fake.memory[f"discord:{ALICE}"]) == 2  # nothing happens before the click
    assert await view.interaction_check(FakeInteraction(bot, FakeUser(BOB))) is False  # type: ignore[arg-type]
    click = FakeInteraction(bot, FakeUser(ALICE))
    await view.confirm.callback(click)  # type: ignore[arg-type]
    assert fake.memory[f"discord:{ALICE}"] == []
    assert click.replies[-1]["content"] == "Forgotten 2 memories."


async def test_forget_can_be_cancelled(bot: CompanionBot, fake: FakeClient) -> None:
    fake.memory[f"discord:{ALICE}"] = [MemoryItem("m1", "tea")]
    alice = FakeInteraction(bot, FakeUser(ALICE))
    await invoke(bot, "forget", alice, target="m1")
    click = FakeInteraction(bot, FakeUser(ALICE))
    view = alice.replies[-1]["view"]
    await view.cancel.callback(click)
    assert len(fake.memory[f"discord:{ALICE}"]) == 1
    # A failing button answers through the bot's error handler, in character.
    failed = FakeInteraction(bot, FakeUser(ALICE))
    await view.on_error(failed, NotFound("memory m1 not found"), view.confirm)
    assert failed.replies[-1]["content"] == "I couldn't find that."


async def test_delete_my_data_needs_the_owners_confirmation(
    bot: CompanionBot, fake: FakeClient
) -> None:
    fake.memory[f"discord:{ALICE}"] = [MemoryItem("m1", "tea")]
    fake.memory[f"discord:{BOB}"] = [MemoryItem("m2", "cat")]
    alice = FakeInteraction(bot, FakeUser(ALICE))
    await invoke(bot, "delete-my-data", alice)
    reply = alice.replies[-1]
    view = reply["view"]
    assert type(view).__name__ == "ConfirmDeleteData" and reply["ephemeral"] is True
    assert fake.deleted == []  # nothing happens before the click
    assert await view.interaction_check(FakeInteraction(bot, FakeUser(BOB))) is False  # type: ignore[arg-type]

    keep = FakeInteraction(bot, FakeUser(ALICE))
    await view.cancel.callback(keep)  # type: ignore[arg-type]
    assert fake.deleted == [] and "keeping everything" in keep.replies[-1]["content"]

    await invoke(bot, "delete-my-data", alice)
    click = FakeInteraction(bot, FakeUser(ALICE))
    await alice.replies[-1]["view"].confirm.callback(click)
    assert fake.deleted == [f"discord:{ALICE}"]  # the caller's own account only
    assert f"discord:{ALICE}" not in fake.memory and fake.memory[f"discord:{BOB}"]
    assert "deleted" in click.replies[-1]["content"]


async def test_personality_is_an_ephemeral_embed(bot: CompanionBot) -> None:
    alice = FakeInteraction(bot, FakeUser(ALICE))
    await invoke(bot, "personality", alice)
    reply = alice.replies[-1]
    assert reply["ephemeral"] is True
    fields = {f.name: f.value for f in reply["embed"].fields}
    assert "0.70" in fields["Big Five"] and "says 'hmm' a lot" in fields["Quirks"]


async def test_proactive_settings(bot: CompanionBot, fake: FakeClient) -> None:
    alice = FakeInteraction(bot, FakeUser(ALICE))
    await invoke(bot, "proactive off", alice)
    await invoke(bot, "proactive quiet", alice, hours="22-8")
    await invoke(bot, "proactive timezone", alice, tz="Europe/Paris")
    assert "**off**" in alice.replies[-1]["content"]
    assert (
        "22-08" in alice.replies[-1]["content"] and "Europe/Paris" in alice.replies[-1]["content"]
    )
    with pytest.raises(InvalidInput, match="quiet hours"):
        await invoke(bot, "proactive quiet", alice, hours="late")


async def test_reset_and_export(bot: CompanionBot, fake: FakeClient) -> None:
    fake.memory[f"discord:{ALICE}"] = [MemoryItem("m1", "tea")]
    user = FakeUser(ALICE)
    alice = FakeInteraction(bot, user, channel_id=777)
    await invoke(bot, "reset", alice)
    assert fake.resets == [(f"discord:{ALICE}", "discord:777")]
    await invoke(bot, "export", alice)
    file = user.dms[-1]["file"]
    data = json.loads(file.fp.getvalue())
    assert data == {"user_id": f"discord:{ALICE}", "memories": ["tea"]}
    closed = FakeInteraction(bot, FakeUser(ALICE, dms_open=False))
    await invoke(bot, "export", closed)
    assert "couldn't DM you" in closed.replies[-1]["content"]


async def test_admin_commands_need_an_admin_id(bot: CompanionBot) -> None:
    cmd = command(bot, "companion-admin status")
    alice = FakeInteraction(bot, FakeUser(ALICE))
    with pytest.raises(app_commands.CheckFailure):
        await cmd._check_can_run(alice)  # type: ignore[arg-type]
    bot.channel_settings.discord_admin_ids.append(ALICE)
    assert await cmd._check_can_run(alice)  # type: ignore[arg-type]


async def test_the_error_handler_answers_in_character(bot: CompanionBot) -> None:
    alice = FakeInteraction(bot, FakeUser(ALICE))
    error = app_commands.CommandInvokeError(command(bot, "personality"), RuntimeError("boom"))
    await bot.tree.on_error(alice, error)  # type: ignore[arg-type]
    assert alice.replies[-1] == {
        "content": "Sorry — my thoughts got tangled for a moment. Could you try that again?",
        "ephemeral": True,
    }
    bad = FakeInteraction(bot, FakeUser(ALICE))
    await bot.on_app_command_error(
        bad,
        app_commands.CommandInvokeError(
            command(bot, "reset"), InvalidInput("unknown time zone 'Mars'")
        ),
    )  # type: ignore[arg-type]
    assert "unknown time zone" in bad.replies[-1]["content"]
