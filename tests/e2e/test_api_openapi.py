"""The OpenAPI document: valid OpenAPI 3.1, public, and in step with the routes the app really has."""

from __future__ import annotations

from openapi_spec_validator import validate

from ledger.api.blueprint import PREFIX
from ledger.api.openapi import document
from tests.e2e.api_support import openapi_path

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


def api_routes(app) -> dict[tuple[str, str], str]:
    """(OpenAPI path, method) -> endpoint, for every /api/v1 rule in the app."""
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/") or rule.rule == PREFIX:
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes[(openapi_path(rule.rule), method.lower())] = rule.endpoint
    return routes


def documented(doc: dict) -> dict[tuple[str, str], str]:
    return {(path, method): op["operationId"] for path, item in doc["paths"].items()
            for method, op in item.items() if method in HTTP_METHODS}


def test_the_document_is_valid_openapi_3_1():
    doc = document()
    assert doc["openapi"].startswith("3.1")
    validate(doc)


def test_every_route_is_documented_with_its_methods_and_nothing_else(app):
    routes = api_routes(app)
    described = documented(document())
    assert set(routes) - set(described) == set(), "routes missing from the OpenAPI document"
    assert set(described) - set(routes) == set(), "documented operations the app does not have"
    for key, endpoint in routes.items():
        assert endpoint == f"api.{described[key]}", f"{key}: operationId does not name the view"


def test_every_path_parameter_is_declared(app):
    doc = document()
    for path, item in doc["paths"].items():
        declared = set()
        for param in item.get("parameters", []):
            name = param["$ref"].rsplit("/", 1)[1] if "$ref" in param else None
            declared.add(doc["components"]["parameters"][name]["name"] if name else param["name"])
        for placeholder in [p.strip("{}") for p in path.split("/") if p.startswith("{")]:
            assert placeholder in declared, f"{path} does not declare {placeholder}"


def test_every_schema_reference_resolves():
    doc = document()

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref:
                _, section, kind, name = ref.split("/")
                assert name in doc[section][kind], ref
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)


def test_the_document_is_served_without_a_token(client):
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == document()


def test_writes_need_a_bearer_token_in_the_document():
    doc = document()
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert doc["security"] == [{"bearerAuth": []}]
    public = [(p, m) for (p, m), _ in documented(doc).items() if doc["paths"][p][m].get("security") == []]
    assert public == [("/openapi.json", "get")]
