"""Which database errors mean "unreachable" (503) and which are faults (500), by type."""

from __future__ import annotations

from asyncpg import exceptions as asyncpg_errors
from sqlalchemy.exc import DBAPIError, ProgrammingError

from companion.store.database import is_connection_error


def _wrapped(original: BaseException) -> DBAPIError:
    """What SQLAlchemy raises when asyncpg fails while connecting: a plain DBAPIError
    whose ``orig`` is the adapter's error, caused by asyncpg's own."""
    adapted = Exception("adapted")
    adapted.__cause__ = original
    error = DBAPIError("connect", None, adapted)
    error.__cause__ = adapted
    return error


def test_a_server_shutting_down_or_starting_is_unreachable() -> None:
    # Seen while PostgreSQL restarts: "the database system is shutting down".
    assert is_connection_error(_wrapped(asyncpg_errors.CannotConnectNowError("x")))
    assert is_connection_error(_wrapped(asyncpg_errors.AdminShutdownError("x")))
    assert is_connection_error(_wrapped(asyncpg_errors.ConnectionDoesNotExistError("x")))
    assert is_connection_error(_wrapped(FileNotFoundError(2, "no socket")))


def test_a_bad_query_or_a_cancelled_statement_is_not() -> None:
    assert not is_connection_error(_wrapped(asyncpg_errors.UndefinedTableError("x")))
    assert not is_connection_error(_wrapped(asyncpg_errors.QueryCanceledError("x")))
    assert not is_connection_error(ProgrammingError("SELECT", None, Exception("syntax")))
    assert not is_connection_error(ValueError("no"))
