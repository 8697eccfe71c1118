"""The one clock: the current instant, and an alliance's calendar day in the alliance's own time zone.

Every "now" (a timestamp) and every "today" (the day that decides whether an entry is inside the term, a
checkpoint is due, the books are read-only) comes from here, so a page, the API, a service and the command
line never disagree on what today is: near midnight the server's local day, the UTC day and the alliance's
day can all differ, and only the alliance's is right for its books.

The app holds its clock (``app.extensions["ledger.clock"]``, or ``create_app({"CLOCK": ...})``); tests
set a :class:`FixedClock` there instead of patching functions. Outside an app (a script, the migrations)
the system clock answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Protocol
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_app_context

from ledger.domain.errors import InvalidInput

EXTENSION = "ledger.clock"

#: The time zone of an alliance that names none.
DEFAULT_TIMEZONE = "UTC"

#: The longest IANA name is 32 characters ("America/Argentina/ComodRivadavia"); the column leaves room.
TIMEZONE_MAX = 64

#: Names in the time zone database that are not places: the server's own zone, and a file of rules.
NOT_ZONES = frozenset({"localtime", "posixrules"})


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class FixedClock:
    """A clock stopped at ``instant`` (aware): what tests, and a replay of a given day, set on the app."""

    instant: datetime

    def __post_init__(self) -> None:
        if self.instant.tzinfo is None:
            raise ValueError("a fixed clock needs an aware instant, e.g. datetime(..., tzinfo=UTC)")

    def now(self) -> datetime:
        return self.instant


SYSTEM = SystemClock()


class HasTimezone(Protocol):
    timezone: str


def init_app(app: Flask) -> None:
    """The app's clock: the ``CLOCK`` setting if given (tests), else the system clock."""
    app.extensions[EXTENSION] = app.config.get("CLOCK") or SYSTEM


def clock() -> Clock:
    """The clock of the app handling this request or command; the system clock outside any app."""
    if has_app_context():
        return current_app.extensions.get(EXTENSION, SYSTEM)
    return SYSTEM


def utcnow() -> datetime:
    """The current instant in UTC (what every timestamp column stores)."""
    return clock().now().astimezone(UTC)


def today(alliance: HasTimezone) -> date:
    """The calendar day it is now where the alliance keeps its books (its time zone)."""
    return utcnow().astimezone(zone(alliance.timezone or DEFAULT_TIMEZONE)).date()


@cache
def _zone_names() -> dict[str, str]:
    """Every IANA zone name the system knows, by its lower-case spelling."""
    from zoneinfo import available_timezones

    return {name.lower(): name for name in available_timezones() - NOT_ZONES}


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_timezone(value: object, field: str = "timezone") -> str:
    """An IANA time zone name as the database spells it ("europe/rome" is Europe/Rome); empty is UTC."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_TIMEZONE
    if not isinstance(value, str):
        raise InvalidInput.at(field, "Give the time zone as a name, e.g. Europe/Rome or UTC.")
    name = _zone_names().get(value.strip().lower())
    if name is None:
        raise InvalidInput.at(field, f"\u201c{value.strip()[:40]}\u201d is not a time zone: use an IANA name "
                                     f"such as Europe/Rome, America/New_York or UTC.")
    return name
