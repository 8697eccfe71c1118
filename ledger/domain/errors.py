"""Input errors that name the field that caused them.

HTML forms and the JSON API report the same rules, so the rules raise one
exception type that carries ``{field: message}`` and each edge renders it in
its own way (an error under the form field, a 422 with the field name).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class InvalidInput(Exception):
    """One or more fields were rejected; nothing was written."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors: dict[str, str] = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))

    @classmethod
    def at(cls, field: str, message: str) -> InvalidInput:
        return cls({field: message})


class FieldErrors:
    """Collects every field's error so a form reports all problems at once, not one per submit."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def check(self, field: str, parse, *args, **kwargs):
        """Run ``parse``; on InvalidInput record its message under ``field`` and return None."""
        try:
            return parse(*args, **kwargs)
        except InvalidInput as exc:
            self.add(field, next(iter(exc.errors.values())))
            return None

    def merge(self, parse, *args, **kwargs):
        """Run a parser that validates several fields; keep every error it reports under its own key."""
        try:
            return parse(*args, **kwargs)
        except InvalidInput as exc:
            for field, message in exc.errors.items():
                self.add(field, message)
            return None

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self, first: Sequence[str] = ()) -> None:
        """Raise every error; ``first`` names fields whose errors lead, in that order (the form's order,
        for a field checked last because its check costs a query, so the first error still gets the focus)."""
        if self.errors:
            leading = {field: self.errors[field] for field in first if field in self.errors}
            raise InvalidInput(leading | self.errors)


class NotAllowed(Exception):
    """The user is a member but their role does not permit this (HTTP 403)."""


class NotFound(Exception):
    """No such object in the user's alliances (HTTP 404; existence elsewhere is not revealed)."""


class Conflict(Exception):
    """The request clashes with the current state, e.g. reversing an entry twice (HTTP 409)."""
