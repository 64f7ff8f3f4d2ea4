"""schemathesis over the OpenAPI spec of a running ``companion serve``: the long run.

``python bench/reliability.py schema --examples 200 --seed 21``

A real ``companion serve`` (embedded PostgreSQL, the instant loopback model) is
called with an admin key, so admin routes and acting for generated user ids are
exercised too. Every operation of ``/openapi.json`` gets ``--examples`` generated
requests (valid and invalid input). A **server error** is any 5xx; each is listed
with its request. The short version runs in ``make test``
(``tests/integration/api/test_schemathesis.py``, 4 examples per operation).

The admin key's own id is never revoked or rotated (that would turn the rest of the
run into 401s); everything else is fair game.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, seed, settings

from companion.bench.reliability import Stack


def schema(examples: int, random_seed: int) -> dict[str, Any]:
    """Run the sweep; one JSON-ready dict of figures."""
    stack = Stack(llm_args=[])
    try:
        stack.setup()
        stack.start()
        return _sweep(stack, examples, random_seed)
    finally:
        stack.close()


def _sweep(stack: Stack, examples: int, random_seed: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {stack.key}"}
    admin_key_ids = {
        str(item["id"])
        for item in httpx.get(
            f"{stack.base}/api/admin/keys",
            params={"user_id": "bench-admin"},
            headers=headers,
            timeout=30,
        ).json()
    }
    spec = httpx.get(f"{stack.base}/openapi.json", timeout=30).json()
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    operations = 0
    started = time.monotonic()
    for result in schemathesis.openapi.from_dict(spec).get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        if operation.method.upper() == "GET" and operation.path.endswith("/stream"):
            continue  # an open-ended event stream
        operations += 1

        @seed(random_seed)
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case[Any, Any]) -> None:  # type: ignore[type-arg]
            if (
                case.path.startswith("/api/admin/keys/")
                and str((case.path_parameters or {}).get("key_id")) in admin_key_ids
            ):
                return  # keep the key this sweep runs with
            try:
                response = case.call(base_url=stack.base, headers=headers, timeout=60)
            except Exception as exc:  # the server dropped the connection: as bad as a 5xx
                statuses[0] += 1
                errors.append(f"{case.method} {case.formatted_path} -> {type(exc).__name__}")
                return
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                body = repr(case.body)[:200] if case.body is not None else ""
                errors.append(
                    f"{case.method} {case.formatted_path} {case.query or ''} {body} -> "
                    f"{response.status_code}: {response.text[:200]}"
                )

        check()
    return {
        "scenario": "schemathesis over the OpenAPI spec (long run)",
        "examples_per_operation": examples,
        "seed": random_seed,
        "operations": operations,
        "calls": sum(statuses.values()),
        "server_errors": sum(n for status, n in statuses.items() if status >= 500 or status == 0),
        "by_status": {str(k): v for k, v in sorted(statuses.items())},
        "minutes": round((time.monotonic() - started) / 60, 1),
        "errors": errors[:50],
    }
