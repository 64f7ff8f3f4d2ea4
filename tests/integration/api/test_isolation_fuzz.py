"""The short two-user isolation fuzz (long run: ``python -m companion.bench.isolation_fuzz``)."""

from __future__ import annotations

from tests.integration.api.conftest import Gateway

from companion.bench.isolation_fuzz import CANARY, USERS, fuzz


async def test_two_users_random_calls_no_leak_no_server_error(gateway: Gateway) -> None:
    headers = {user: await gateway.key(user) for user in USERS}
    report = await fuzz(gateway.client, headers, calls=150, seed=21)
    await gateway.service.drain()

    assert report.calls == 150
    assert report.server_errors == [], report.server_errors[:3]
    assert report.leaks == [], report.leaks[:3]
    assert len(report.statuses) >= 3  # successes, refusals and not-founds were all exercised
    for user in USERS:  # and at rest: nothing of the other's is stored under either user
        other = USERS[1] if user == USERS[0] else USERS[0]
        exported = await gateway.runtime.memory.export(user_id=user)  # type: ignore[union-attr]
        assert CANARY[other] not in str(exported)
