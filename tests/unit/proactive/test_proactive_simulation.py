"""A fake-clock simulation: 200 users, 14 days, a check every 5 minutes.

Users have different habits (active hours, how often they reply, loneliness of their
companion) and timezones (crossing two DST changes). The pure core decides every
5 minutes; the simulated users reply, decline or ignore. Afterwards the send log is
replayed against every hard limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from companion.proactive.core import (
    REPLY_WINDOW_HOURS,
    Features,
    GuardrailLimits,
    evaluate,
    in_quiet_hours,
)

START = datetime(2026, 10, 20, tzinfo=UTC)  # crosses EU (Oct 25) and US (Nov 1) DST ends
DAYS, STEP_MIN, USERS = 14, 5, 200
ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Tokyo",
    "Australia/Sydney",
    "America/Los_Angeles",
    "Asia/Kolkata",
]
GROUPS = ["lonely", "busy", "opted_out", "suspended", "mixed"]
LIMITS = GuardrailLimits(max_per_day=3, min_gap_hours=4.0)


@dataclass
class World:
    """The simulated users and everything that happened to them."""

    rng: np.random.Generator
    group: np.ndarray
    zone: np.ndarray
    active_start: np.ndarray
    quiet: tuple[np.ndarray, np.ndarray]
    need: np.ndarray
    reply_p: np.ndarray
    decline_p: np.ndarray
    hist_hour: np.ndarray
    hist_day: np.ndarray
    offsets: dict[str, np.ndarray]
    last_activity: np.ndarray = field(init=False)
    sends: list[list[dict[str, float]]] = field(init=False)

    def __post_init__(self) -> None:
        self.last_activity = np.full(USERS, -20.0 * 60)
        self.sends = [[] for _ in range(USERS)]


def _offsets() -> dict[str, np.ndarray]:
    hours = DAYS * 24 + 1
    return {
        z: np.array(
            [
                (START + timedelta(hours=h)).astimezone(ZoneInfo(z)).utcoffset().total_seconds()
                / 60
                for h in range(hours)
            ]
        )
        for z in ZONES
    }


def _world(seed: int = 7) -> World:
    rng = np.random.default_rng(seed)
    group = np.array([GROUPS[i % len(GROUPS)] for i in range(USERS)], dtype=object)
    zone = np.array([ZONES[rng.integers(len(ZONES))] for _ in range(USERS)], dtype=object)
    active_start = rng.integers(9, 19, USERS)  # a 3-hour active window, local
    custom = rng.random(USERS) < 0.3
    quiet = (np.where(custom, 22 * 60, 23 * 60), np.where(custom, 7 * 60, 8 * 60))
    lonely_like = np.isin(group, ["lonely", "opted_out", "suspended"])
    # Lonely: the social need sits above its 0.8 trigger (urgency 0.2-0.4).
    lonely_need = rng.uniform(0.84, 0.88, USERS)
    need = np.where(
        lonely_like, lonely_need, np.where(group == "busy", 0.5, rng.uniform(0.5, 1, USERS))
    )
    reply_p = np.where(lonely_like, 0.95, np.where(group == "busy", 0.1, rng.uniform(0, 1, USERS)))
    decline_p = np.where(group == "mixed", 0.15, 0.0)
    hist_hour = np.zeros((USERS, 24))
    for u in range(USERS):  # 30 days of prior habit
        for _d in range(30):
            for k in range(3):
                hist_hour[u, (active_start[u] + k) % 24] += rng.random() < 0.8
    hist_day = np.tile(hist_hour.sum(axis=1, keepdims=True) / 7, (1, 7))
    return World(
        rng,
        group,
        zone,
        active_start,
        quiet,
        need,
        reply_p,
        decline_p,
        hist_hour,
        hist_day,
        _offsets(),
    )


def _local(world: World, minute: int) -> np.ndarray:
    hour_index = minute // 60
    return minute + np.array([world.offsets[z][hour_index] for z in world.zone])


def _features(world: World, minute: int, local: np.ndarray) -> Features:
    hours = lambda m: (minute - m) / 60.0  # noqa: E731
    n = USERS
    last = np.full(n, np.nan)
    answered = np.zeros(n, bool)
    prev_unanswered = np.zeros(n, bool)
    decline = np.full(n, np.nan)
    sent_today = np.zeros(n, np.int64)
    rate = np.full(n, 0.5)
    user_day = np.floor(local / 1440)
    for u, log in enumerate(world.sends):
        if not log:
            continue
        last[u] = hours(log[-1]["t"])
        answered[u] = _answered(log[-1], minute)
        if len(log) > 1:
            prev_unanswered[u] = not _answered(log[-2], minute)
        declines = [s["declined"] for s in log if s["declined"] <= minute]
        decline[u] = hours(max(declines)) if declines else np.nan
        sent_today[u] = sum(1 for s in log if s["local_day"] == user_day[u])
        known = [s for s in log if minute - s["t"] >= REPLY_WINDOW_HOURS * 60]
        if known:
            rate[u] = np.mean([_answered(s, minute) for s in known])
    hour = (np.floor(local / 60) % 24).astype(int)
    weekday = (user_day.astype(int) + 3) % 7
    idx = np.arange(n)
    levels = np.full((n, 5), np.nan)
    levels[:, 0] = world.need
    nan = np.full(n, np.nan)
    return Features(
        user_ids=np.arange(n).astype(object),
        need_levels=levels,
        need_thresholds=np.full((n, 5), 0.8),
        need_weights=np.ones((n, 5)),
        hour_count=world.hist_hour[idx, hour],
        hour_max=world.hist_hour.max(axis=1),
        day_count=world.hist_day[idx, weekday],
        day_max=world.hist_day.max(axis=1),
        samples=world.hist_hour.sum(axis=1),
        hours_since_activity=hours(world.last_activity),
        response_rate=rate,
        avg_conversation_length=np.where(world.group == "busy", 2.0, 12.0),
        initiation_ratio=np.full(n, 0.5),
        has_history=np.ones(n, bool),
        traits={
            k: nan
            for k in (
                "openness",
                "conscientiousness",
                "extraversion",
                "agreeableness",
                "neuroticism",
            )
        },
        pad=(nan, nan, nan),
        suspended=world.group == "suspended",
        enabled=world.group != "opted_out",
        quiet=in_quiet_hours((local % 1440).astype(int), *world.quiet),
        sent_today=sent_today,
        hours_since_proactive=last,
        last_answered=answered,
        hours_since_decline=decline,
        previous_unanswered=prev_unanswered,
    )


def _answered(send: dict[str, float], minute: int) -> bool:
    """Replied within 12 h (as of ``minute``) or declined: the outcome is known."""
    window_end = send["t"] + REPLY_WINDOW_HOURS * 60
    return send["reply"] <= min(minute, window_end) or send["declined"] <= minute


def _step_users(world: World, minute: int, local: np.ndarray) -> None:
    hour = (np.floor(local / 60) % 24).astype(int)
    in_window = (hour - world.active_start) % 24 < 3
    starts = in_window & (world.rng.random(USERS) < 0.6 / 12) & (world.group != "busy")
    world.last_activity = np.where(starts, minute, world.last_activity)
    for u, log in enumerate(world.sends):
        if log and log[-1]["reply"] == minute:
            world.last_activity[u] = minute


def _send(world: World, u: int, minute: int, local: float) -> None:
    rng = world.rng
    reply = minute + int(rng.uniform(10, 180)) if rng.random() < world.reply_p[u] else 10**9
    declined = minute + 30 if rng.random() < world.decline_p[u] else 10**9
    if declined < 10**9:
        reply = 10**9
    world.sends[u].append(
        {
            "t": minute,
            "reply": reply,
            "declined": declined,
            "local_day": float(np.floor(local / 1440)),
            "local": float(local),
        }
    )


@pytest.fixture(scope="module")
def world() -> World:
    world = _world()
    for minute in range(0, DAYS * 24 * 60, STEP_MIN):
        local = _local(world, minute)
        _step_users(world, minute, local)
        result = evaluate(_features(world, minute, local), limits=LIMITS, threshold=0.6)
        for u in np.flatnonzero(result.initiate):
            _send(world, int(u), minute, float(local[u]))
    return world


def test_no_hard_limit_is_ever_violated(world: World) -> None:
    checked = 0
    for u, log in enumerate(world.sends):
        start, end = world.quiet[0][u], world.quiet[1][u]
        days: dict[float, int] = {}
        for i, s in enumerate(log):
            assert not in_quiet_hours(int(s["local"] % 1440), start, end), (u, s)
            days[s["local_day"]] = days.get(s["local_day"], 0) + 1
            assert days[s["local_day"]] <= LIMITS.max_per_day
            if i == 0:
                continue
            prev = log[i - 1]
            gap_h = (s["t"] - prev["t"]) / 60
            assert gap_h >= LIMITS.min_gap_hours
            if prev["declined"] < s["t"]:
                assert s["t"] - prev["declined"] >= 24 * 60
            if not _answered(prev, s["t"]):  # still open, or unanswered after 12 h
                assert gap_h >= 12, f"user {u} got a message while the last was open"
            if prev["reply"] > prev["t"] + 12 * 60 and prev["declined"] > s["t"]:
                assert gap_h >= 12 + 24, (u, gap_h)
                if i >= 2 and not _answered(log[i - 2], prev["t"] + 12 * 60):
                    assert gap_h >= 12 + 72, (u, gap_h)
            checked += 1
    assert checked > 50  # the limits were actually exercised


def test_opted_out_and_suspended_users_get_nothing(world: World) -> None:
    for u, log in enumerate(world.sends):
        if world.group[u] in ("opted_out", "suspended"):
            assert log == []


def test_lonely_engaged_users_are_messaged_in_their_active_hours(world: World) -> None:
    lonely = [u for u in range(USERS) if world.group[u] == "lonely"]
    assert all(world.sends[u] for u in lonely)
    hits = total = 0
    for u in lonely:
        for s in world.sends[u]:
            hour = int(s["local"] // 60) % 24
            hits += (hour - world.active_start[u]) % 24 < 3
            total += 1
    assert hits / total >= 0.8


def test_unresponsive_users_are_left_alone_after_silence(world: World) -> None:
    busy = [u for u in range(USERS) if world.group[u] == "busy"]
    lonely = [u for u in range(USERS) if world.group[u] == "lonely"]
    busy_sends = np.mean([len(world.sends[u]) for u in busy])
    lonely_sends = np.mean([len(world.sends[u]) for u in lonely])
    assert busy_sends < lonely_sends
