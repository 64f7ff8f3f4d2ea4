"""Importing a character card as a new companion, and exporting a companion as a card.

Each import creates a new companion (the person's others are kept) and makes it the
active one: the card's name becomes its name, its personality text sets the starting
Big Five (editable afterwards with the preset endpoint) through the ``fast`` model when
a capable one is configured, else (or when its answer is unusable) on the rule path, and
the card is stored on the companion row so the persona block and lorebook enter every
prompt.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from companion.personality import repository as repo
from companion.personality.cards import Card, card_block, traits_from_text
from companion.personality.companions import add_companion, lock_person
from companion.personality.core.presets import BIG_FIVE_TRAITS, BigFive
from companion.personality.judge import llm_card_traits
from companion.store.models import CompanionProfile
from companion.store.repositories import users

if TYPE_CHECKING:
    from companion.personality.service import PersonalityService

__all__ = ["CARD_PRESET", "card_of", "export_card", "import_card", "persona_extras"]

#: The preset name recorded for a companion whose Big Five came from a card.
CARD_PRESET = "character_card"
_WORDS = {
    "openness": ("curious and imaginative", "practical and down to earth"),
    "conscientiousness": ("organised and reliable", "spontaneous"),
    "extraversion": ("outgoing and talkative", "quiet and reserved"),
    "agreeableness": ("warm and kind", "blunt"),
    "neuroticism": ("sensitive and easily worried", "calm and steady"),
}


def card_of(companion: CompanionProfile) -> Card | None:
    """The stored card, if the companion was imported from one."""
    return Card.from_dict(companion.card) if companion.card else None


def persona_extras(stored: dict[str, Any] | None) -> tuple[str, Card | None]:
    """The fenced card block to append to the persona (or ``""``) and the card, from
    the card a companion stores (``CompanionProfile.card``)."""
    card = Card.from_dict(stored) if stored else None
    return (card_block(card) if card else ""), card


async def card_traits(
    service: PersonalityService, *, user_id: str, card: Card
) -> tuple[BigFive, str]:
    """The starting Big Five from the card and where they came from (``llm`` or ``rules``)."""
    text = f"{card.personality}\n{card.description}"
    fast = service.fast
    if fast is not None and getattr(fast, "capable", False) and text.strip():
        traits = await llm_card_traits(fast, user_id=user_id, text=text)
        if traits is not None:
            return traits, "llm"
    return traits_from_text(text), "rules"


async def import_card(
    service: PersonalityService,
    *,
    user_id: str,
    card: Card,
    private: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Make ``card`` a new companion of the user and their active one: name, persona,
    lorebook and starting Big Five. The user's other companions are kept as they were."""
    now = now or datetime.now(UTC)
    traits, source = await card_traits(service, user_id=user_id, card=card)
    async with service.db.transaction() as session:
        await users.get_user(session, user_id=user_id)  # unknown → 404, nothing written
        await lock_person(session, user_id=user_id)
        companion = await add_companion(
            service, session, user_id=user_id, name=card.name[:100], traits=traits,
            preset=CARD_PRESET, card=card.to_dict(), private=private, now=now,
        )  # fmt: skip
        companion_id = companion.id
    current = await service.current(user_id=user_id, now=now)
    current["companion"] = {"id": companion_id, "name": current["name"]}
    current["first_message"] = card.first_mes
    current["alternate_greetings"] = list(card.alternate_greetings)
    current["traits_from"] = source
    return current


async def export_card(
    service: PersonalityService, *, user_id: str, companion_id: int | None = None
) -> Card:
    """The companion (the active one unless ``companion_id``) as a card: the imported
    one, or one written from its traits."""
    async with service.db.transaction() as session:
        await service._ensure_for_read(session, user_id=user_id)
        companion = await repo.get_companion(session, user_id=user_id, companion_id=companion_id)
        stored = card_of(companion)
        if stored is not None:
            return stored
        traits = {t: float(getattr(companion, t)) for t in BIG_FIVE_TRAITS}
    words = [
        high if traits[t] >= 0.6 else low
        for t, (high, low) in _WORDS.items()
        if traits[t] >= 0.6 or traits[t] <= 0.4
    ]
    personality = ", ".join(words) or "even-tempered"
    return Card(
        name=companion.name,
        description=f"{companion.name} is a companion with a personality of their own.",
        personality=personality,
        tags=("companion",),
        creator="Companion",
    )
