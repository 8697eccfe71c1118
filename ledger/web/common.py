"""What every page view needs: today's date, the acting user, and putting a service's errors on a form.

Views stay thin: parse the request into the raw dict a service expects, call
the service, and on ``InvalidInput`` show each message next to the field it
names (HTTP 422) so the person can fix exactly that field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import render_template
from flask_login import current_user
from wtforms import Form, RadioField, SelectField, SelectMultipleField
from wtforms.fields import FieldList, FormField
from wtforms.widgets import CheckboxInput, ListWidget

from ledger.clock import today  # noqa: F401 - the views' today(alliance): the one clock's
from ledger.domain.errors import InvalidInput
from ledger.extensions import get_session
from ledger.models import User


def me() -> User:
    """The logged-in user as a real model object, as the services expect (not the proxy)."""
    return current_user._get_current_object()


try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # WTForms < 3.3 takes plain (value, label) pairs
    SelectChoice = None


def options(pairs) -> list:
    """``(value, label)`` pairs as WTForms wants them (3.3 deprecates tuples, 3.4 drops them)."""
    pairs = list(pairs)
    if SelectChoice is None:
        return pairs
    return [p if isinstance(p, SelectChoice) else SelectChoice(p[0], p[1]) for p in pairs]


class _Options:
    """Lets views pass plain ``(value, label)`` pairs as choices; the service validates the value."""

    def __init__(self, *args, choices=None, **kwargs) -> None:
        kwargs.setdefault("validate_choice", False)
        if choices is not None and not callable(choices):
            choices = options(choices)
        super().__init__(*args, choices=choices, **kwargs)

    def __setattr__(self, name: str, value) -> None:
        if name == "choices" and value is not None and not callable(value):
            value = options(value)
        super().__setattr__(name, value)


class Choice(_Options, SelectField):
    """A select whose value the *service* validates, so its message (not WTForms') reaches the user."""


class Radio(_Options, RadioField):
    """Radio buttons whose value the view or service checks."""


class MultiCheckbox(_Options, SelectMultipleField):
    """Several checkboxes under one name; the service validates the values."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def fields_by_name(form: Form) -> dict[str, object]:
    """Every field of the form, nested ones too, by its HTML name (``pools-0-name``) and short name."""
    found: dict[str, object] = {}

    def walk(container) -> None:
        for field in container:
            found[field.name] = field
            if isinstance(field, FormField):
                walk(field.form)
            elif isinstance(field, FieldList):
                for sub in field.entries:
                    found[sub.name] = sub
                    if isinstance(sub, FormField):
                        walk(sub.form)

    walk(form)
    for short, field in form._fields.items():
        found.setdefault(short, field)
    return found


def put_errors(form: Form, errors: Mapping[str, str], rename: Callable[[str], str] = str) -> dict[str, str]:
    """Attach each message to the field it names; return the ones no field of the form shows."""
    fields = fields_by_name(form)
    rest: dict[str, str] = {}
    for key, message in errors.items():
        name = rename(key)
        field = fields.get(name)
        if field is not None and hasattr(field, "errors") and not isinstance(field, FormField | FieldList):
            if not isinstance(field.errors, list):
                field.errors = list(field.errors)
            field.errors.append(message)
        else:
            rest[name] = message
    return rest


def unprocessable(template: str, form: Form, exc: InvalidInput, **context):
    """Re-render the form with the service's messages at their fields; nothing was written."""
    get_session().rollback()  # a service may have flushed part of its work before refusing
    rest = put_errors(form, exc.errors)
    return render_template(template, form=form, other_errors=rest, **context), 422
