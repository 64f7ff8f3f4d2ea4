"""``companion doctor --production``: is this configuration fit to face the internet?

Each check is a pure function of the settings (and, for backups, of the backup
folder's contents), so the verdicts are testable without a server. A check reads
what it can see from here: "TLS in front" means PUBLIC_URL is an https URL, which is
what the proxy in ``deploy/`` serves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from companion.settings import Settings
from companion.settings.db import DEFAULT_DB_PASSWORDS

__all__ = ["Check", "looks_like_placeholder", "production_checks"]

#: Values copied from examples instead of real secrets.
_PLACEHOLDER = re.compile(
    r"^(?:<.*>|\$\{.*\}|x{3,}|\*{3,}|\.{3,}|(?:your|my|insert|put|enter|replace)[-_ ].*|"
    r".*(?:changeme|change[-_]me|changethis|placeholder|example|dummy|todo|fixme).*|"
    r"(?:sk|gsk|ck)[-_](?:x+|\.+|your.*)|test|secret|token|password|none|null)$",
    re.IGNORECASE,
)
_SECRETS = {
    "JWT_SECRET_KEY": ("security", "jwt_secret_key"),
    "PROACTIVE_WEBHOOK_SECRET": ("behaviour", "proactive_webhook_secret"),
}
_PROVIDER_KEYS = {
    "CHUTES_API_KEY": "chutes_api_key",
    "GROQ_API_KEY": "groq_api_key",
    "OPENAI_API_KEY": "openai_api_key",
    "OPENROUTER_API_KEY": "openrouter_api_key",
    "GEMINI_API_KEY": "gemini_api_key",
}
_BACKUP_MAX_AGE = timedelta(hours=26)


@dataclass(frozen=True)
class Check:
    """One verdict: ``name``, ``ok`` and what to do about it."""

    name: str
    ok: bool
    detail: str


def looks_like_placeholder(value: str) -> bool:
    """Whether ``value`` is an example value rather than a real secret."""
    return bool(_PLACEHOLDER.match(value.strip()))


def production_checks(settings: Settings, *, now: datetime | None = None) -> list[Check]:
    """Every production check, in a fixed order."""
    return [
        _tls(settings),
        _auth(settings),
        _secrets(settings),
        _provider_keys(settings),
        _cors(settings),
        _backups(settings, now=now or datetime.now(UTC)),
    ]


def _tls(settings: Settings) -> Check:
    url = settings.core.public_url.strip()
    if urlsplit(url).scheme == "https":
        return Check("tls in front", True, f"PUBLIC_URL is {url}")
    shown = url or "unset"
    return Check(
        "tls in front", False, f"PUBLIC_URL is {shown}; serve through HTTPS (deploy/Caddyfile) "
        "and set PUBLIC_URL=https://your.domain",
    )  # fmt: skip


def _auth(settings: Settings) -> Check:
    if settings.security.require_authentication:
        return Check("authentication required", True, "REQUIRE_AUTHENTICATION=true")
    return Check(
        "authentication required", False, "REQUIRE_AUTHENTICATION=false lets anyone act as "
        "any user with X-User-Id; set it to true",
    )  # fmt: skip


def _secrets(settings: Settings) -> Check:
    problems: list[str] = []
    jwt = settings.security.jwt_secret_key
    if not jwt:
        problems.append("JWT_SECRET_KEY is unset")
    elif len(jwt) < 32 or looks_like_placeholder(jwt):
        problems.append("JWT_SECRET_KEY is short or a placeholder (openssl rand -hex 32)")
    hook = settings.behaviour.proactive_webhook_secret
    if settings.behaviour.proactive_webhook_url and (not hook or looks_like_placeholder(hook)):
        problems.append("PROACTIVE_WEBHOOK_SECRET is unset or a placeholder")
    password = settings.db.database_password
    if password is not None and (
        password.lower() in DEFAULT_DB_PASSWORDS or looks_like_placeholder(password)
    ):
        problems.append("DATABASE_URL has a default password")
    if problems:
        return Check("secrets not default", False, "; ".join(problems))
    return Check("secrets not default", True, "JWT and database secrets are set and not defaults")


def _provider_keys(settings: Settings) -> Check:
    bad = [
        name
        for name, field in _PROVIDER_KEYS.items()
        if (value := getattr(settings.llm, field)) and looks_like_placeholder(value)
    ]
    channels = settings.channels
    for name, value in (
        ("DISCORD_TOKEN", channels.discord_token),
        ("TELEGRAM_BOT_TOKEN", channels.telegram_bot_token),
    ):
        if value and looks_like_placeholder(value):
            bad.append(name)
    if bad:
        return Check("no placeholder keys", False, f"placeholder values in {', '.join(bad)}")
    return Check("no placeholder keys", True, "provider keys and bot tokens look real (or unset)")


def _cors(settings: Settings) -> Check:
    origins = settings.security.cors_origin_list
    if not origins:
        return Check("cors origins explicit", True, "CORS_ORIGINS unset: no cross-origin access")
    if "*" in origins:
        return Check("cors origins explicit", False, "CORS_ORIGINS contains '*'; list origins")
    plain = [o for o in origins if urlsplit(o).scheme != "https"]
    if plain:
        return Check("cors origins explicit", False, f"not https: {', '.join(plain)}")
    return Check("cors origins explicit", True, ", ".join(origins))


def _backups(settings: Settings, *, now: datetime) -> Check:
    folder = settings.db.backup_dir
    if folder is None:
        return Check(
            "backups configured", False, "BACKUP_DIR is unset; schedule `companion backup` "
            "(see docs/DEPLOY.md) or back up your managed database",
        )  # fmt: skip
    dumps = sorted(Path(folder).glob("*.dump"), key=lambda p: p.stat().st_mtime)
    if not dumps:
        return Check("backups configured", False, f"no backup in {folder} yet")
    newest = dumps[-1]
    age = now - datetime.fromtimestamp(newest.stat().st_mtime, UTC)
    if age > _BACKUP_MAX_AGE:
        hours = age.total_seconds() / 3600
        return Check(
            "backups configured", False, f"newest backup {newest.name} is {hours:.0f} h old"
        )
    return Check("backups configured", True, f"newest backup {newest.name}")
