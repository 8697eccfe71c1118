"""A test client for ``/api/v1`` that holds every response to the OpenAPI document.

Every call a test makes is checked: the route and method must be documented,
the status must be one of the operation's documented responses, and the body
must validate against that response's schema (with formats such as date and
date-time checked). So every API test is also a test of the document.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.test import TestResponse

from ledger.api.blueprint import PREFIX
from ledger.api.openapi import document
from ledger.models import Base, User
from ledger.services.users import create_token
from tests.builders import Case

_CONVERTER = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


def openapi_path(rule: str) -> str:
    """``/api/v1/alliances/<id:alliance_id>`` -> ``/alliances/{alliance_id}``."""
    return _CONVERTER.sub(r"{\1}", rule.removeprefix(PREFIX)) or "/"


class Contract:
    """The OpenAPI document, able to validate a response against what it promises."""

    def __init__(self) -> None:
        self.doc = document()

    def validator(self, schema: dict) -> Draft202012Validator:
        # Refs point at #/components/...: carry the components alongside so they resolve in place.
        wrapper = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                   "components": self.doc["components"], "allOf": [schema]}
        return Draft202012Validator(wrapper, format_checker=Draft202012Validator.FORMAT_CHECKER)

    def response_spec(self, path: str, method: str, status: int) -> dict:
        operation = self.doc["paths"][path][method.lower()]
        responses = operation["responses"]
        assert str(status) in responses, (
            f"{method} {path} answered {status}, which the document does not list ({sorted(responses)})")
        spec = responses[str(status)]
        if "$ref" in spec:
            spec = self.doc["components"]["responses"][spec["$ref"].rsplit("/", 1)[1]]
        return spec

    def check(self, path: str, method: str, response: TestResponse) -> None:
        spec = self.response_spec(path, method, response.status_code)
        schema = spec["content"]["application/json"]["schema"]
        assert response.is_json, f"{method} {path} answered {response.content_type}, not JSON"
        errors = sorted(self.validator(schema).iter_errors(response.get_json()), key=str)
        assert not errors, f"{method} {path} {response.status_code} does not match the document: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])
        for header in spec.get("headers", {}):
            assert header in response.headers, f"{method} {path} {response.status_code} lacks {header}"

    def check_error(self, response: TestResponse) -> None:
        """A response from no route at all (an unknown URL) must still be the documented error shape."""
        errors = list(self.validator({"$ref": "#/components/schemas/Error"}).iter_errors(response.get_json()))
        assert not errors, errors


class Api:
    """``api.get("/alliances", who="alpha")``: the case's users each have a token."""

    def __init__(self, app: Flask, client: FlaskClient, tokens: dict[str, str]) -> None:
        self.app = app
        self.client = client
        self.tokens = tokens
        self.contract = Contract()

    def call(self, method: str, path: str, who: str | None = None, *, token: str | None = None,
             json: Any = None, data: str | bytes | None = None, query: dict | None = None,
             headers: dict | None = None) -> TestResponse:
        headers = dict(headers or {})
        if who is not None:
            token = self.tokens[who]
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        kwargs: dict = {"headers": headers, "query_string": query}
        if json is not None:
            kwargs["json"] = json
        elif data is not None:
            kwargs["data"] = data
            kwargs["content_type"] = "application/json"
        response = self.client.open(PREFIX + path, method=method, **kwargs)
        self._check(method, PREFIX + path, response)
        return response

    def _check(self, method: str, url: str, response: TestResponse) -> None:
        adapter = self.app.url_map.bind("localhost")
        try:
            rule, _ = adapter.match(url, method, return_rule=True)
        except HTTPException:
            self.contract.check_error(response)
            return
        self.contract.check(openapi_path(rule.rule), method, response)

    def get(self, path: str, who: str | None = None, **kwargs) -> TestResponse:
        return self.call("GET", path, who, **kwargs)

    def post(self, path: str, who: str | None = None, **kwargs) -> TestResponse:
        return self.call("POST", path, who, **kwargs)


def make_tokens(session: Session, case: Case) -> dict[str, str]:
    tokens = {}
    for key, user in case.users.items():
        _, plain = create_token(session, session.get(User, user.id), "tests")
        tokens[key] = plain
    session.commit()
    return tokens


def row_counts(session: Session) -> dict[str, int]:
    """How many rows every table has, read fresh (a test asserts that a refused request wrote nothing).

    Log-in sessions are left out: the test's own log-ins open them, between any two counts.
    """
    session.rollback()
    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables
            if t.name != "login_sessions"}


def error_fields(response: TestResponse) -> dict[str, str]:
    return response.get_json()["error"].get("fields", {})
