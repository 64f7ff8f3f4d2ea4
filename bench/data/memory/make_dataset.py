"""Generate the memory benchmark dataset in LoCoMo's JSON format (deterministic).

Five long multi-session conversations between a user and a friend. Each plants facts
(job, city, pet, sibling, food, hobby), later contradicts some of them (a new job, a
move), mentions dated events with relative dates ("yesterday", "last week"), and
buries all of it in small talk that reuses the same words. Questions:
``single-hop`` (one turn), ``multi-hop`` (two turns), ``temporal`` (a dated event),
``update`` (only the later, contradicting turn counts as evidence).

Run: python bench/data/memory/make_dataset.py > bench/data/memory/companion_locomo.json
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

PEOPLE = [
    dict(a="Maya", b="Jon", job="Google", job2="Spotify", city="Lisbon", city2="Berlin",
         pet="dog", pet_name="Sparky", sib="sister", sib_name="Ana", sib_city="Porto",
         food="ramen", hobby="bouldering", event="adopted a kitten", event_q="adopt a kitten"),
    dict(a="Leo", b="Priya", job="a bakery called Crumbs", job2="the city library",
         city="Austin", city2="Denver", pet="cat", pet_name="Miso", sib="brother",
         sib_name="Tomas", sib_city="Chicago", food="tacos", hobby="woodworking",
         event="ran my first half marathon", event_q="run a half marathon"),
    dict(a="Sofia", b="Kenji", job="a law firm", job2="a climate nonprofit", city="Madrid",
         city2="Valencia", pet="parrot", pet_name="Kiwi", sib="cousin", sib_name="Lucia",
         sib_city="Seville", food="paella", hobby="salsa dancing",
         event="passed my driving test", event_q="pass the driving test"),
    dict(a="Omar", b="Grace", job="Siemens", job2="a solar startup", city="Munich",
         city2="Hamburg", pet="rabbit", pet_name="Biscuit", sib="sister", sib_name="Layla",
         sib_city="Vienna", food="falafel", hobby="chess", event="proposed to Nadia",
         event_q="propose to Nadia"),
    dict(a="Hana", b="Eli", job="a hospital in the east end", job2="a private clinic",
         city="Toronto", city2="Vancouver", pet="dog", pet_name="Pepper", sib="brother",
         sib_name="Daniel", sib_city="Montreal", food="sushi", hobby="pottery",
         event="finished my nursing exam", event_q="finish the nursing exam"),
]  # fmt: skip

SMALL_TALK = [
    "How was your weekend?", "Pretty relaxed, mostly cleaning and cooking.",
    "Did you watch the game last night?", "No, I fell asleep early honestly.",
    "The weather has been so strange lately.", "I know, rain one day and sun the next.",
    "Have you read anything good recently?", "A mystery novel, it was fine but slow.",
    "My phone battery dies so fast now.", "You should get it replaced, it's cheap.",
    "Work has been busy for everyone this month.", "Same here, lots of meetings.",
    "I tried a new coffee place downtown.", "Was it good? I need a new spot.",
    "Traffic was terrible this morning.", "I took the train, it was packed too.",
    "My neighbour's dog barks all night.", "That sounds exhausting, poor you.",
    "I'm thinking about repainting my kitchen.", "Go for a light colour, it helps.",
    "Did you see the new movie everyone talks about?", "Not yet, is it worth it?",
    "I need to start exercising again.", "Same, maybe we can go running together.",
    "My friend moved to a new city last year.", "Moving is so stressful, I hate packing.",
    "The office cafeteria changed its menu.", "Hopefully for the better this time.",
    "I keep forgetting to water my plants.", "Set a reminder on your phone.",
    "Are you travelling anywhere this summer?", "Maybe the coast, nothing booked yet.",
    "I found an old photo album yesterday.", "Those are the best, so many memories.",
    "My cousin works at a bank, he likes it.", "Banks pay well but the hours are long.",
    "Someone at work adopted a dog.", "Everyone seems to be getting pets lately.",
    "I had pizza for dinner again.", "No judgement, pizza is always a good idea.",
]  # fmt: skip


def _facts(p: dict[str, str]) -> list[list[tuple[str, str, str | None]]]:
    """Per session: (speaker key, text, label) triples; label marks evidence."""
    a = p["a"]
    return [
        [("a", f"I work at {p['job']} now, it's a good place.", "job"),
         ("a", f"I live in {p['city']}, right near the river.", "city"),
         ("a", f"My {p['pet']} is named {p['pet_name']}, he is the best.", "pet")],
        [("a", f"My {p['sib']} {p['sib_name']} is visiting soon.", "sib"),
         ("a", f"{p['sib_name']} lives in {p['sib_city']} these days.", "sib_city"),
         ("a", f"I love {p['food']}, I could eat it every day.", "food")],
        [("a", f"I {p['event']} yesterday!", "event"),
         ("a", f"I started {p['hobby']} classes, I really enjoy {p['hobby']}.", "hobby")],
        [("a", f"Big news: I got a new job at {p['job2']}.", "job2"),
         ("b", f"Congrats {a}! That's a big change.", None)],
        [("a", f"I moved to {p['city2']} last month, still unpacking.", "city2"),
         ("b", "How do you like the new place?", None)],
        [("a", f"{p['pet_name']} loves the new park near my place.", "pet2")],
    ]  # fmt: skip


def _questions(p: dict[str, str], ev: dict[str, str], dates: dict[str, str]) -> list[dict]:
    a = p["a"]
    q = [
        (f"What is the name of {a}'s {p['pet']}?", p["pet_name"], ["pet"], "single-hop"),
        (f"What food does {a} love?", p["food"], ["food"], "single-hop"),
        (f"What is {a}'s {p['sib']} called?", p["sib_name"], ["sib"], "single-hop"),
        (f"Which hobby did {a} start classes for?", p["hobby"], ["hobby"], "single-hop"),
        (f"In which city does {a}'s {p['sib']} live?", p["sib_city"], ["sib", "sib_city"], "multi-hop"),
        (f"Where does {a}'s {p['pet']} like to go?", "the new park", ["pet", "pet2"], "multi-hop"),
        (f"When did {a} {p['event_q']}?", dates["event"], ["event"], "temporal"),
        (f"When did {a} move to {p['city2']}?", dates["city2"], ["city2"], "temporal"),
        (f"Where does {a} work now?", p["job2"], ["job2"], "update"),
        (f"Which city does {a} live in now?", p["city2"], ["city2"], "update"),
    ]  # fmt: skip
    return [
        {"question": text, "answer": ans, "evidence": [ev[k] for k in keys], "category": cat}
        for text, ans, keys, cat in q
    ]


def sample(index: int, p: dict[str, str], rng: random.Random) -> dict:
    """One LoCoMo-style sample: six sessions of ~40 turns, facts buried in small talk."""
    conv: dict = {"speaker_a": p["a"], "speaker_b": p["b"]}
    evidence: dict[str, str] = {}
    dates: dict[str, str] = {}
    start = datetime(2023, 1, 10, 18, 0) + timedelta(days=index * 3)
    for s, planted in enumerate(_facts(p), start=1):
        when = start + timedelta(days=(s - 1) * 21)
        conv[f"session_{s}_date_time"] = when.strftime("%-I:%M %p on %-d %B, %Y")
        lines = [("a" if i % 2 == 0 else "b", t, None) for i, t in enumerate(rng.sample(SMALL_TALK, 36))]
        for item in planted:
            lines.insert(rng.randrange(2, len(lines)), item)
        turns = []
        for t, (who, text, label) in enumerate(lines, start=1):
            dia = f"D{s}:{t}"
            turns.append({"speaker": p[who], "dia_id": dia, "text": text})
            if label:
                evidence[label] = dia
                if label == "event":
                    dates[label] = (when - timedelta(days=1)).strftime("%-d %B %Y")
                if label == "city2":
                    dates[label] = (when - timedelta(days=30)).strftime("%B %Y")
        conv[f"session_{s}"] = turns
    return {"sample_id": f"companion-{index}", "conversation": conv,
            "qa": _questions(p, evidence, dates)}  # fmt: skip


if __name__ == "__main__":
    rng = random.Random(20231)
    print(json.dumps([sample(i, p, rng) for i, p in enumerate(PEOPLE)], indent=1))
