"""The date rule of a reversal (a storno): never before the entry it reverses.

A reversal cancels its original exactly: it is split under the original's agreement version and pool,
so the pair nets to zero for every partner whatever version is in force on the reversal's own date. It
follows that the reversal must not be dated before its original. If it were, a later agreement version
effective from a day between the two (after the last close, so allowed) would re-split the original and,
to keep the pair at zero, drag the reversal along with it: figures of a period already closed and signed
off would change. Dated on or after its original, a reversal lies in an open period whenever its original
does, so nothing that re-splits entries can reach into a closed period.

Plain Python: ``services.entries.reverse_entry`` and the import's checks (``imports.checks``) both call
these, so a reversal typed in the form and one imported from a sheet obey the same rule in the same words.
"""

from __future__ import annotations

from datetime import date

from ledger.domain.errors import InvalidInput


def not_before_original(day: date, original_day: date, original_id: int, field: str = "date") -> date:
    """``day`` if a reversal of entry ``original_id`` (dated ``original_day``) may be dated on it."""
    if day < original_day:
        raise InvalidInput.at(
            field, f"A reversal cannot be dated before the entry it reverses: entry #{original_id} is dated "
                   f"{original_day.isoformat()}. Date the reversal on {original_day.isoformat()} or later.")
    return day


def default_reversal_day(open_day: date, original_day: date) -> date:
    """The date a reversal gets when none is given: the first open day the services suggest (today in the
    term, past the last close), or the original's own date if that is later."""
    return max(open_day, original_day)
