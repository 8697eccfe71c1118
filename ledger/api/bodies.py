"""Reading a JSON request body: the one door every body of the API comes in by.

The services validate each field's value (422 at the field). Here, before
them, what no service should have to think about: a body that is not a JSON
object (400), text that cannot be stored (a lone surrogate such as ``"\\ud800"``
is valid JSON but not encodable text), and fields the operation does not take.
An unknown field is refused, not dropped: ``"category": "waste"`` silently
ignored would leave the caller reading "Choose a category" about a field they
think they sent. What an operation takes is read from its request schema in
the OpenAPI document, so the contract and the check cannot drift apart.
"""

from __future__ import annotations

import difflib
import json
import re

from flask import request

from ledger.api import openapi
from ledger.api.blueprint import PREFIX
from ledger.api.errors import BadRequest
from ledger.domain.errors import FieldErrors, InvalidInput
from ledger.domain.text import unreadable

#: Unknown fields named in one answer; more are summed up.
_NAMED = 20
_RULE_PART = re.compile(r"<(?:[^:<>]+:)?([^:<>]+)>")


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def json_body(*, optional: bool = False) -> dict:
    """The body as a dict; an empty body is ``{}`` where every field is optional."""
    data = request.get_data(cache=True)
    if not data.strip():
        body: object = {}
        if not optional:
            raise BadRequest("Send a JSON object as the request body.")
    else:
        try:
            # NaN and Infinity are not JSON; Python's parser accepts them unless told not to.
            body = json.loads(data, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            raise BadRequest("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    errors = FieldErrors()
    _check(body, _request_schema(), "", errors)
    if errors:
        raise InvalidInput(errors.errors)
    return body


def _request_schema() -> dict:
    """The operation's body schema from the OpenAPI document; an operation without one takes no fields."""
    path = _RULE_PART.sub(r"{\1}", request.url_rule.rule.removeprefix(PREFIX)) if request.url_rule else ""
    operation = openapi.PATHS.get(path, {}).get(request.method.lower(), {})
    schema = operation.get("requestBody", {}).get("content", {}).get(openapi.JSON, {}).get("schema")
    return _resolve(schema) if schema else {"type": "object", "properties": {}, "additionalProperties": False}


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = openapi.SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _check(value: object, schema: dict, field: str, errors: FieldErrors) -> None:
    """Walk the value: every string storable, every object only the properties its schema lists."""
    schema = _resolve(schema)
    if isinstance(value, str):
        problem = unreadable(value, field or "body")
        if problem:
            errors.add(field or "body", problem)
    elif isinstance(value, list):
        items = _resolve(_variant(schema, list).get("items", {}))
        for index, item in enumerate(value):
            _check(item, items, f"{field}-{index}" if field else str(index), errors)
    elif isinstance(value, dict):
        _check_object(value, _variant(schema, dict), field, errors)


def _variant(schema: dict, kind: type) -> dict:
    """The branch of a ``oneOf`` that describes a ``kind`` (list or dict), or the schema itself."""
    wanted = "array" if kind is list else "object"
    for option in schema.get("oneOf", []):
        option = _resolve(option)
        if option.get("type") == wanted or wanted in (option.get("type") or []):
            return option
    return schema


def _check_object(value: dict, schema: dict, field: str, errors: FieldErrors) -> None:
    properties = schema.get("properties")
    unknown = []
    for key, item in value.items():
        name = f"{field}-{key}" if field else key
        if unreadable(key, "field name"):
            errors.add(_printable(name), unreadable(key, "field name"))
        elif properties is not None and schema.get("additionalProperties") is False and key not in properties:
            unknown.append(key)
        else:
            _check(item, (properties or {}).get(key, {}), name, errors)
    for key in unknown[:_NAMED]:
        errors.add(_printable(f"{field}-{key}" if field else key), _unknown(key, list(properties or {})))
    if len(unknown) > _NAMED:
        errors.add(field or "body", f"{len(unknown) - _NAMED} more unknown fields.")


def _unknown(key: str, known: list[str]) -> str:
    """Name the field the caller probably meant, in the API's words (``category`` -> ``category_id``)."""
    guess = f"{key}_id" if f"{key}_id" in known else next(iter(difflib.get_close_matches(key, known, 1)), None)
    hint = f" Did you mean {guess}?" if guess else ""
    fields = ", ".join(known) if known else "none"
    return f"Unknown field; nothing was saved.{hint} The fields this request takes: {fields}."


def _printable(name: str) -> str:
    """A field name as it can go back in the answer: escaped, and no longer than a field name is."""
    return name.encode("ascii", "backslashreplace").decode()[:80]
