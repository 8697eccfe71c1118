"""The one clock (ledger.clock): nothing else reads the time, and an alliance's today is the day in its zone."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask

import ledger
from ledger import clock
from ledger.domain.errors import InvalidInput

PACKAGE = Path(ledger.__file__).resolve().parent
#: ``date.today()``, ``datetime.now()`` ... : each is a second clock (and the first two a server-local day).
CLOCK_READS = {("date", "today"), ("datetime", "today"), ("datetime", "now"), ("datetime", "utcnow")}


def clock_reads(source: str) -> list[int]:
    """The lines of ``source`` that call one of CLOCK_READS (``date.today()``, ``datetime.datetime.now()``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
            if (name, node.func.attr) in CLOCK_READS:
                found.append(node.lineno)
    return found


def test_the_finder_finds_every_spelling():
    source = "date.today()\ndatetime.now(UTC)\ndatetime.datetime.utcnow()\nx.today()\ndatetime.fromisoformat(s)\n"
    assert clock_reads(source) == [1, 2, 3]


def test_no_module_reads_the_time_but_the_clock_module():
    offenders = [f"{path.relative_to(PACKAGE.parent)}:{line}"
                 for path in sorted(PACKAGE.rglob("*.py")) if path != PACKAGE / "clock.py"
                 for line in clock_reads(path.read_text(encoding="utf-8"))]
    assert offenders == [], "read the time through ledger.clock (utcnow, today(alliance)), not directly"


@dataclass
class Books:
    timezone: str


NEAR_MIDNIGHT = datetime(2025, 3, 31, 22, 30, tzinfo=UTC)


@pytest.mark.parametrize(("zone", "day"), [
    ("Europe/Rome", date(2025, 4, 1)),  # 00:30 in Rome (summer time)
    ("UTC", date(2025, 3, 31)),
    ("America/New_York", date(2025, 3, 31)),  # 18:30
    ("Pacific/Kiritimati", date(2025, 4, 1)),  # UTC+14
    ("", date(2025, 3, 31)),  # no zone: UTC
])
def test_an_alliances_today_is_the_calendar_day_in_its_zone(zone, day):
    app = Flask(__name__)
    app.config["CLOCK"] = clock.FixedClock(NEAR_MIDNIGHT)
    clock.init_app(app)
    with app.app_context():
        assert clock.today(Books(zone)) == day


@pytest.mark.parametrize(("given", "name"), [
    ("Europe/Rome", "Europe/Rome"), (" europe/rome ", "Europe/Rome"), ("utc", "UTC"), ("", "UTC"), (None, "UTC"),
    ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
])
def test_a_time_zone_is_an_iana_name_spelled_as_the_database_does(given, name):
    assert clock.parse_timezone(given) == name


@pytest.mark.parametrize("given", ["Rome", "Mars/Olympus_Mons", "localtime", "posixrules", "../zoneinfo/UTC",
                                   "/etc/localtime", "Europe/Rome\x00", "+02:00", 2, ["UTC"], "x" * 10_000])
def test_anything_else_is_refused_at_the_field(given):
    with pytest.raises(InvalidInput) as refused:
        clock.parse_timezone(given, "tz")
    assert list(refused.value.errors) == ["tz"]
    assert len(refused.value.errors["tz"]) < 200
