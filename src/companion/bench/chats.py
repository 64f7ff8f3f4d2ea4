"""Scripted multi-turn chats for ``companion bench conversation``. Data only.

Each chat is a person who introduces themself (name, city, job, a pet…), talks about
other things for a few turns, then asks the companion what it remembers. A question
turn lists the answers that count as recalling the fact (any one, whole words, case
ignored). Written for this harness; no sentence comes from a public data set.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CHATS", "Chat", "Turn"]


@dataclass(frozen=True)
class Turn:
    """One user message; ``expect`` non-empty makes it a recall question."""

    user: str
    expect: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chat:
    """A scripted conversation with one person, whose name the companion must not take."""

    id: str
    user_name: str
    turns: tuple[Turn, ...]


def _t(user: str, *expect: str) -> Turn:
    return Turn(user, tuple(expect))


CHATS: tuple[Chat, ...] = (
    Chat("nurse-porto", "Priya", (
        _t("Hi! I'm Priya. I just moved to Porto for a job as a night nurse."),
        _t("I also brought my dog along, a beagle called Biscuit."),
        _t("The hospital shifts are long but my colleagues seem kind."),
        _t("Quick test: what's my name?", "Priya"),
        _t("And which city do I live in now?", "Porto"),
        _t("What's my dog called?", "Biscuit"),
    )),
    Chat("teacher-leeds", "Tomasz", (
        _t("Hello, my name is Tomasz and I teach chemistry at a school in Leeds."),
        _t("My cat Pixel knocked a cup off my desk this morning."),
        _t("I'm marking forty lab reports this weekend, wish me luck."),
        _t("Do you remember what I teach?", "chemistry"),
        _t("What's my cat's name?", "Pixel"),
    )),
    Chat("baker-quito", "Lucía", (
        _t("Hey there, I'm Lucía, I run a small bakery in Quito."),
        _t("I get up at four every day to bake the bread."),
        _t("My parrot Mango whistles at the customers."),
        _t("What's my name again?", "Lucía", "Lucia"),
        _t("Where is my bakery?", "Quito"),
        _t("And what's my parrot called?", "Mango"),
    )),
    Chat("coder-oslo", "Ingrid", (
        _t("I'm Ingrid. I write software for a weather company in Oslo."),
        _t("It snowed all night here and the trams were late."),
        _t("My hamster is called Waffles, he sleeps all day."),
        _t("Can you tell me my name?", "Ingrid"),
        _t("What kind of company do I work for?", "weather"),
        _t("And my hamster's name?", "Waffles"),
    )),
    Chat("driver-nairobi", "Kofi", (
        _t("Good evening! Kofi here. I drive a bus in Nairobi."),
        _t("Traffic was terrible today, three hours on one route."),
        _t("At home my tortoise Speedy was waiting for me, as always."),
        _t("What do I do for a living?", "bus", "driver", "drive"),
        _t("Which city am I in?", "Nairobi"),
        _t("What's my tortoise called?", "Speedy"),
    )),
    Chat("student-kyoto", "Hana", (
        _t("Hi, I'm Hana, a music student in Kyoto. I play the cello."),
        _t("My recital is next month and I'm a bit nervous."),
        _t("My rabbit Mochi keeps me calm when I practise."),
        _t("What instrument do I play?", "cello"),
        _t("Where do I study?", "Kyoto"),
        _t("Who is Mochi?", "rabbit", "bunny"),
    )),
    Chat("chef-lyon", "Marc", (
        _t("Hello! My name's Marc and I'm a chef in Lyon."),
        _t("Tonight we served two hundred people, my feet hurt."),
        _t("My dog Truffle gets all the leftovers."),
        _t("What's my name?", "Marc"),
        _t("What's my job?", "chef", "cook"),
        _t("What's my dog called?", "Truffle"),
    )),
    Chat("vet-austin", "Dana", (
        _t("Hi, I'm Dana, a vet in Austin."),
        _t("I spent the morning patching up a very grumpy goat."),
        _t("My own pet is a snake named Noodle."),
        _t("Who am I?", "Dana"),
        _t("Where do I work as a vet?", "Austin"),
        _t("What's my snake's name?", "Noodle"),
    )),
    Chat("pilot-dublin", "Aoife", (
        _t("Hey, Aoife here! I'm a pilot and I live in Dublin."),
        _t("I flew to Lisbon and back twice this week."),
        _t("Do you know what I do for work?", "pilot", "fly", "flying"),
        _t("And where is home for me?", "Dublin"),
    )),
    Chat("gardener-perth", "Sam", (
        _t("Hi, I'm Sam. I'm a gardener in Perth and I have a dog called Rusty."),
        _t("We planted forty lemon trees today."),
        _t("Rusty dug up two of them, of course."),
        _t("What's my name?", "Sam"),
        _t("What's my dog's name?", "Rusty"),
        _t("What do I do all day?", "gardener", "garden", "gardening", "plant", "planting"),
    )),
)  # fmt: skip
