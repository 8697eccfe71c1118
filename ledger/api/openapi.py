"""The OpenAPI 3.1 description of ``/api/v1``, written by hand as Python data.

Hand-written so that it is a contract, not a reflection of whatever the
code happens to do: the tests check that every route is described with the
same methods (and nothing else is), and that every response the tests see
validates against the schema given here. Every object declares
``additionalProperties: false``: an undocumented output field fails those
tests, and a request body's unknown field is refused (``ledger.api.bodies``
reads each operation's body schema from here).
"""

from __future__ import annotations

import copy

from ledger.api.blueprint import MAX_ID, PREFIX
from ledger.api.inputs import DEFAULT_LIMIT, MAX_LIMIT
from ledger.chain import SEGMENT
from ledger.clock import TIMEZONE_MAX
from ledger.domain.agreements import MAX_WEIGHT
from ledger.domain.chain import PROBLEMS_SHOWN
from ledger.domain.vocabulary import EntryKind, MemberRole, PartnerRole, PartnerType, PoolSide, QuorumRule
from ledger.models import CAUSE_MAX, DESCRIPTION_MAX, EMAIL_MAX, NAME_MAX, REFERENCE_MAX
from ledger.services.agreements import MAX_POOLS, NOTE_MAX

JSON = "application/json"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict, *, required: list[str] | None = None, **extra) -> dict:
    """A closed object schema: an output lists every property it has, and an input takes no other (a body
    with an unknown field is a 422 naming it, ``ledger.api.bodies``)."""
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required, **extra,
            "additionalProperties": False}


def nullable(schema: dict) -> dict:
    if "$ref" in schema:
        return {"oneOf": [schema, {"type": "null"}]}
    return {**schema, "type": [schema["type"], "null"]}


def enum_of(cls, description: str | None = None) -> dict:
    schema = {"type": "string", "enum": [m.value for m in cls]}
    if description:
        schema["description"] = description
    return schema


def list_of(key: str, item: str) -> dict:
    return obj({key: {"type": "array", "items": ref(item)}})


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
ID = {"type": "integer", "minimum": 1}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
TIMEZONE = {"type": "string", "maxLength": TIMEZONE_MAX, "examples": ["Europe/Rome"],
            "description": "The IANA time zone whose calendar day is the alliance's today (any case: "
                           "europe/rome is Europe/Rome); an unknown name is a 422 at timezone."}
MONEY = {
    "type": "string", "pattern": r"^-?\d+(\.\d+)?$", "examples": ["1234.56"],
    "description": "An exact amount in the alliance's currency as a decimal string, "
                   "with as many decimals as the currency has (EUR 2, JPY 0). Never a JSON number.",
}

#: The ``error`` object of every error answer.
ERROR_BODY = obj({
    "status": {"type": "integer", "description": "The HTTP status, repeated."},
    "message": {"type": "string", "description": "What went wrong, for a person to read."},
    "fields": {
        "type": "object", "additionalProperties": {"type": "string"},
        "description": "For 400 and 422 when a field is at fault: body field (422) or query "
                       "parameter (400) name -> message. Pool fields are named pools-N-name, "
                       "pools-N-kinds, pools-N-shares ...",
    },
}, required=["status", "message"])

SCHEMAS: dict[str, dict] = {
    "Error": obj({"error": ERROR_BODY}),
    "Money": MONEY,
    "AmountInput": {
        "type": ["string", "integer"],
        "description": "A decimal string such as \"1234.56\" (\"1,234.56\" and \"1.234,56\" are accepted "
                       "where unambiguous) or a JSON integer of whole units. A JSON number with a fraction "
                       "is refused with 422: binary floating point cannot carry money exactly. Positive, "
                       "at most the currency's decimals, not over 1,000,000,000.00.",
        "examples": ["1234.56"],
    },
    "IdInput": {"type": ["integer", "string"], "description": "An id as a JSON integer or a string of digits."},
    "Alliance": obj({
        "id": ID, "name": STRING, "cause": STRING,
        "currency": {"type": "string", "description": "ISO 4217 code, e.g. EUR."},
        "start_date": DATE, "term_end": DATE, "created_at": DATETIME,
        "role": enum_of(MemberRole, "The caller's role in this alliance."),
        "partner_id": nullable({**ID, "description": "The partner the caller acts for (a partner member) or "
                                                     "sits for (a steering member)."}),
        "state": {"type": "string", "enum": ["active", "renegotiating", "ending", "ended", "expired"],
                  "description": "Where the alliance is in its life: ended (terminated, past its last day) is "
                                 "read-only; expired means the term ran out without a renewal decision."},
        "ended_on": nullable({**DATE, "description": "The last day, set by a terminate decision."}),
        "renegotiate_from": nullable({**DATE, "description": "Set by a renegotiate decision until the new split "
                                                             "agreement from that day is saved."}),
        "quorum": enum_of(QuorumRule, "Who must have voted before a checkpoint's decision can be recorded."),
        "hhi_threshold": {"type": "string", "pattern": r"^\d+(\.\d+)?$",
                          "description": "Dependency concentration above which it is flagged (0 to 1)."},
        "timezone": TIMEZONE,
        "today": {**DATE, "description": "The calendar day it is now in the alliance's time zone: the day that "
                                         "decides what is inside the term, due or read-only, for pages and API "
                                         "alike."},
    }),
    "AllianceInput": obj({
        "name": {"type": "string", "maxLength": NAME_MAX},
        "cause": {"type": "string", "maxLength": CAUSE_MAX},
        "currency": {"type": "string", "description": "ISO 4217 code, e.g. EUR."},
        "start_date": DATE,
        "term_end": {**DATE, "description": "On or after start_date, at most 50 years later."},
        "timezone": {**TIMEZONE, "description": TIMEZONE["description"] + " Left out or empty: UTC."},
    }, required=["name", "currency", "start_date", "term_end"]),
    "AllianceUpdate": obj({"timezone": TIMEZONE}, required=[]),
    "Partner": obj({"id": ID, "name": STRING, "role": enum_of(PartnerRole), "type": enum_of(PartnerType)}),
    "PartnerInput": obj({
        "name": {"type": "string", "maxLength": NAME_MAX, "description": "Unique in the alliance."},
        "role": enum_of(PartnerRole), "type": enum_of(PartnerType),
    }),
    "Category": obj({"id": ID, "name": STRING}),
    "CategoryInput": obj({"name": {"type": "string", "maxLength": NAME_MAX,
                                   "description": "Stored lower-case; unique in the alliance."}}),
    "Member": obj({
        "id": {**ID, "description": "The membership's id."},
        "user_id": ID, "name": STRING, "email": STRING, "role": enum_of(MemberRole),
        "partner_id": nullable(ID), "partner": nullable(STRING), "created_at": DATETIME,
    }),
    "MemberInput": obj({
        "email": {"type": "string", "maxLength": EMAIL_MAX},
        "role": enum_of(MemberRole),
        "partner_id": {**ref("IdInput"), "description": "Required for a partner member (the partner they act for); "
                       "optional for a steering member (the partner they sit for: their checkpoint vote counts "
                       "as that partner's in the quorum); empty for an accountant or a coordinator."},
        "name": {"type": "string", "maxLength": NAME_MAX,
                 "description": "Required when the email has no account yet."},
        "password": {"type": "string", "minLength": 10, "maxLength": 200,
                     "description": "The first password, required when the email has no account yet; not one "
                                    "of the most common passwords, not the email address."},
    }, required=["email", "role"]),
    "Share": obj({"partner_id": ID, "partner": STRING,
                  "weight": {"type": "string", "description": "A positive decimal, e.g. \"1\" or \"33.3333\"."}}),
    "Pool": obj({
        "id": ID, "name": STRING, "side": enum_of(PoolSide),
        "kinds": {"type": "array", "items": enum_of(EntryKind)},
        "categories": {"oneOf": [{"const": "all"}, {"type": "array", "items": ID}],
                       "description": "\"all\" (including categories added later) or category ids."},
        "shares": {"type": "array", "items": ref("Share")},
    }),
    "AgreementVersion": obj({
        "id": ID, "number": {"type": "integer", "minimum": 1}, "effective_from": DATE, "note": STRING,
        "created_by": nullable(STRING), "created_at": DATETIME,
        "pools": {"type": "array", "items": ref("Pool")},
    }),
    "ShareInput": obj({
        "partner_id": ref("IdInput"),
        "weight": {"type": ["string", "integer", "number"],
                   "description": f"Greater than zero, at most {MAX_WEIGHT:,}, at most 4 decimals; "
                                  "\"50%\" is a weight of 50."},
    }),
    "PoolInput": obj({
        "name": {"type": "string", "maxLength": NAME_MAX},
        "side": enum_of(PoolSide, "costs pools share what partners bear, returns pools what they receive."),
        "kinds": {"type": "array", "minItems": 1, "items": enum_of(EntryKind),
                  "description": "cost, contribution, service_fee for a costs pool; revenue for a returns "
                                 "pool; never settlement."},
        "categories": {"oneOf": [{"const": "all"}, {"type": "array", "minItems": 1, "items": ref("IdInput")},
                                 {"type": "null"}],
                       "description": "\"all\" or null for every category, or a list of category ids."},
        "shares": {"type": "array", "minItems": 1, "items": ref("ShareInput")},
    }, required=["name", "side", "kinds", "shares"]),
    "AgreementVersionInput": obj({
        "effective_from": {**DATE, "description": "Inside the alliance's term; one version per date."},
        "note": {"type": "string", "maxLength": NOTE_MAX},
        "pools": {"type": "array", "minItems": 1, "maxItems": MAX_POOLS, "items": ref("PoolInput"),
                  "description": "No two pools may cover the same kind in the same category, and every "
                                 "entry already recorded in the version's span must fall into one."},
    }, required=["effective_from", "pools"]),
    "Entry": obj({
        "id": ID, "date": DATE, "partner_id": ID, "partner": STRING, "kind": enum_of(EntryKind),
        "category_id": nullable(ID), "category": nullable(STRING),
        "amount": {**ref("Money"), "description": "Negative only on a reversal."},
        "description": STRING, "reference": STRING,
        "counterparty_id": nullable(ID), "counterparty": nullable(STRING),
        "agreement_version": nullable({"type": "integer", "minimum": 1,
                                       "description": "Number of the agreement version the entry is split under."}),
        "pool": nullable({"type": "string", "description": "Name of the pool the entry falls into."}),
        "reverses_id": nullable(ID), "reversed_by_id": nullable(ID),
        "recorded_by": STRING, "recorded_at": DATETIME,
    }),
    "EntryInput": obj({
        "date": {**DATE, "description": "Inside the alliance's term."},
        "partner_id": {**ref("IdInput"), "description": "A partner member may only name their own partner."},
        "kind": enum_of(EntryKind),
        "category_id": {**ref("IdInput"), "description": "Required, except for a settlement, which has none."},
        "amount": ref("AmountInput"),
        "description": {"type": "string", "maxLength": DESCRIPTION_MAX},
        "reference": {"type": "string", "maxLength": REFERENCE_MAX},
        "counterparty_id": {**ref("IdInput"),
                            "description": "The partner paid; required for a settlement (not the partner "
                                           "itself), empty otherwise."},
    }, required=["date", "partner_id", "kind", "amount", "description"]),
    "EntryPage": obj({
        "entries": {"type": "array", "items": ref("Entry")},
        "next_cursor": nullable({"type": "string", "description": "Pass as cursor for the next page."}),
        "count": {"type": "integer", "minimum": 0, "description": "Entries matching the filters, all pages."},
        "totals": {"type": "object", "propertyNames": enum_of(EntryKind), "additionalProperties": ref("Money"),
                   "description": "Sum of the amounts matching the filters, per kind."},
    }),
    "ReversalInput": obj({
        "date": {**DATE, "description": "Inside the term, in an open period, never before the reversed entry's "
                                         "date; default today, pulled into the term, past the last close and "
                                         "to the entry's date if that is later."},
        "reason": {"type": "string", "maxLength": 200},
    }, required=[]),
    "BalanceRow": obj({"partner_id": ID, "partner": STRING, "borne": ref("Money"), "cost_share": ref("Money"),
                       "received": ref("Money"), "return_share": ref("Money"),
                       "net": {**ref("Money"), "description": "(borne - cost_share) - (received - return_share); "
                                                              "positive: the others owe the partner."}}),
    "BalanceTotals": obj({"borne": ref("Money"), "cost_share": ref("Money"), "received": ref("Money"),
                          "return_share": ref("Money"),
                          "net": {**ref("Money"), "description": "Always zero."}}),
    "Transfer": obj({"payer_id": ID, "payer": STRING, "payee_id": ID, "payee": STRING, "amount": ref("Money")}),
    "Balance": obj({
        "currency": STRING, "from": nullable(DATE), "to": nullable(DATE),
        "partners": {"type": "array", "items": ref("BalanceRow")},
        "totals": ref("BalanceTotals"),
        "transfers": {"type": "array", "items": ref("Transfer"),
                      "description": "Transfers that would bring every net of this period to zero."},
    }),
    "SettleUp": obj({
        "currency": STRING,
        "transfers": {"type": "array", "items": ref("Transfer"),
                      "description": "At most one fewer than the partners; largest debtor pays largest creditor."},
        "fingerprint": {"type": "string", "description": "Send back as expected when recording."},
    }),
    "SettleUpInput": obj({
        "date": {**DATE, "description": "Inside the term; default today, pulled into the term."},
        "expected": {"type": "string", "minLength": 1,
                     "description": "Required: the fingerprint of the suggestion the caller reviewed, as GET "
                                    "settle-up returned it. Checked under the alliance's lock: if the suggestion "
                                    "is no longer this one (another settle-up or entry came first), the answer "
                                    "is a 409 with the current suggestion and nothing is written."},
    }, required=["expected"]),
    "SettleUpConflict": obj({
        "error": ERROR_BODY,
        "settle_up": {**ref("SettleUp"), "description": "The current suggestion: review it, then send its "
                                                        "fingerprint to record it."},
    }),
    "SettleUpResult": obj({"entries": {"type": "array", "items": ref("Entry")}}),
    "AllianceList": list_of("alliances", "Alliance"),
    "PartnerList": list_of("partners", "Partner"),
    "CategoryList": list_of("categories", "Category"),
    "MemberList": list_of("members", "Member"),
    "AgreementVersionList": list_of("versions", "AgreementVersion"),
}

_ERRORS = {
    400: ("BadRequest", "The body is not a JSON object, or a query parameter is not valid (named in fields)."),
    401: ("Unauthorized", "No bearer token, or it is unknown or revoked."),
    403: ("Forbidden", "A member of the alliance whose role does not allow this."),
    404: ("NotFound", "No such alliance among the caller's (or no such object in it)."),
    409: ("Conflict", "The request clashes with the current state."),
    413: ("PayloadTooLarge", "The body is over 2 MB."),
    422: ("Unprocessable", "A body field is not valid (named in fields); nothing was written."),
    429: ("TooManyRequests", "Too many requests with a bad or revoked token from this address (any token is "
                             "refused until the window moves on); wait Retry-After seconds."),
}

RESPONSES = {
    name: {"description": text, "content": {JSON: {"schema": ref("Error")}}}
    for name, text in _ERRORS.values()
}
RESPONSES["Unauthorized"]["headers"] = {
    "WWW-Authenticate": {"description": "Bearer challenge (RFC 6750).", "schema": {"type": "string"}}}
RESPONSES["TooManyRequests"]["headers"] = {
    "Retry-After": {"description": "Seconds until requests are answered again.", "schema": {"type": "integer"}}}


def _path_id(name: str, what: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": f"The {what}'s id.",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}


def _query(name: str, schema: dict, description: str) -> dict:
    # Every query parameter reads an empty value (?from=) as left out, as HTML forms send an unfilled field.
    return {"name": name, "in": "query", "required": False, "allowEmptyValue": True, "schema": schema,
            "description": description}


PARAMETERS = {
    "AllianceId": _path_id("alliance_id", "alliance"),
    "PartnerId": _path_id("partner_id", "partner"),
    "CategoryId": _path_id("category_id", "category"),
    "MemberId": _path_id("member_id", "membership"),
    "VersionId": _path_id("version_id", "agreement version"),
    "EntryId": _path_id("entry_id", "entry"),
    "From": _query("from", DATE, "First day of the range (inclusive)."),
    "To": _query("to", DATE, "Last day of the range (inclusive); not before from."),
    "IdempotencyKey": {
        "name": "Idempotency-Key", "in": "header", "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 100},
        "description": "Any unique string (e.g. a UUID) chosen by the client. A retry with the same key and "
                       "the same body gets the first answer again (header Idempotent-Replayed: true) instead "
                       "of recording twice; the same key with another body is a 422.",
    },
}


def _param(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def _errors(*codes: int) -> dict:
    return {str(code): {"$ref": f"#/components/responses/{_ERRORS[code][0]}"} for code in (401, 429, *codes)}


def _ok(schema: str, description: str, status: int = 200, location: bool = False) -> dict:
    response: dict = {"description": description, "content": {JSON: {"schema": ref(schema)}}}
    if location:
        response["headers"] = {"Location": {"description": "Where the created object can be read.",
                                            "schema": {"type": "string"}}}
    return {str(status): response}


def _body(schema: str, *, required: bool = True) -> dict:
    return {"required": required, "content": {JSON: {"schema": ref(schema)}}}


WRITE_ERRORS = (400, 403, 404, 413, 422)


def _get(op_id: str, summary: str, schema: str, *errors: int, params: list | None = None) -> dict:
    op = {"operationId": op_id, "summary": summary, "responses": {**_ok(schema, summary), **_errors(*errors)}}
    if params:
        op["parameters"] = params
    return op


def _post(op_id: str, summary: str, body: str, schema: str, *errors: int, body_required: bool = True) -> dict:
    return {"operationId": op_id, "summary": summary, "requestBody": _body(body, required=body_required),
            "responses": {**_ok(schema, "Created.", 201, location=True), **_errors(*errors)}}


def _collection(noun: str, plural: str, item: str, extra_param: str) -> dict:
    """``GET``/``POST`` on a collection of an alliance, and ``GET`` on one of its items."""
    return {
        f"/alliances/{{alliance_id}}/{plural}": {
            "parameters": [_param("AllianceId")],
            "get": _get(f"list_{plural}", f"The alliance's {plural}", f"{item}List", 404),
            "post": _post(f"create_{noun}", f"Add a {noun} (coordinator only)", f"{item}Input", item,
                          *WRITE_ERRORS),
        },
        f"/alliances/{{alliance_id}}/{plural}/{{{noun}_id}}": {
            "parameters": [_param("AllianceId"), _param(extra_param)],
            "get": _get(f"get_{noun}", f"One {noun}", item, 404),
        },
    }


def _settle_up_post() -> dict:
    """Its 409 is not the plain error: it carries the current suggestion beside the error."""
    op = _post("record_settle_up", "Record the suggested transfers as settlement entries (coordinator only), if "
               "they are still the suggestion the caller saw (expected); else 409 with the current one, also "
               "when there is nothing to settle", "SettleUpInput", "SettleUpResult", *WRITE_ERRORS)
    op["responses"]["409"] = {"description": "The suggestion is not the one sent as expected any more, or "
                                             "nothing is left to settle; nothing was written.",
                              "content": {JSON: {"schema": ref("SettleUpConflict")}}}
    return op


PATHS = {
    "/openapi.json": {"get": {
        "operationId": "openapi", "summary": "This document", "security": [],
        "responses": {"200": {"description": "The OpenAPI 3.1 document.",
                              "content": {JSON: {"schema": {"type": "object"}}}}}}},
    "/alliances": {
        "get": _get("list_alliances", "The caller's alliances, each with the caller's role", "AllianceList"),
        "post": _post("create_alliance", "Create an alliance; the caller becomes its coordinator",
                      "AllianceInput", "Alliance", 400, 413, 422),
    },
    "/alliances/{alliance_id}": {
        "parameters": [_param("AllianceId")],
        "get": _get("get_alliance", "One alliance, with the caller's role", "Alliance", 404),
        "patch": {"operationId": "update_alliance", "summary": "Change the alliance's settings (coordinator only): "
                  "its time zone; a field left out keeps its value", "requestBody": _body("AllianceUpdate"),
                  "responses": {**_ok("Alliance", "The alliance as changed."), **_errors(*WRITE_ERRORS)}},
    },
    **_collection("partner", "partners", "Partner", "PartnerId"),
    **_collection("category", "categories", "Category", "CategoryId"),
    **_collection("member", "members", "Member", "MemberId"),
    "/alliances/{alliance_id}/agreement/versions": {
        "parameters": [_param("AllianceId")],
        "get": _get("list_versions", "The split agreement's versions, newest first", "AgreementVersionList", 404),
        "post": _post("create_version", "Add a split agreement version (coordinator only); entries already "
                      "recorded from its date on are split under it", "AgreementVersionInput",
                      "AgreementVersion", *WRITE_ERRORS),
    },
    "/alliances/{alliance_id}/agreement/versions/{version_id}": {
        "parameters": [_param("AllianceId"), _param("VersionId")],
        "get": _get("get_version", "One agreement version", "AgreementVersion", 404),
    },
    "/alliances/{alliance_id}/entries": {
        "parameters": [_param("AllianceId")],
        "get": _get("list_entries", "Ledger entries, newest first, filtered and paginated", "EntryPage", 400, 404,
                    params=[
                        _query("partner_id", ID, "Entries of this partner, or paid to it (settlements)."),
                        _query("kind", enum_of(EntryKind), "Entries of this kind."),
                        _query("category_id", ID, "Entries in this category."),
                        _param("From"), _param("To"),
                        _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                         "default": DEFAULT_LIMIT}, "Page size."),
                        _query("cursor", STRING, "next_cursor of the previous page."),
                    ]),
        "post": {**_post("create_entry", "Record an entry (partner members for their own partner, coordinators "
                         "for any)", "EntryInput", "Entry", *WRITE_ERRORS),
                 "parameters": [_param("IdempotencyKey")]},
    },
    "/alliances/{alliance_id}/entries/{entry_id}": {
        "parameters": [_param("AllianceId"), _param("EntryId")],
        "get": _get("get_entry", "One entry", "Entry", 404),
    },
    "/alliances/{alliance_id}/entries/{entry_id}/reversal": {
        "parameters": [_param("AllianceId"), _param("EntryId")],
        "post": {**_post("reverse_entry", "Reverse an entry with a new, negated entry (once; not a reversal)",
                         "ReversalInput", "Entry", *WRITE_ERRORS, 409, body_required=False),
                 "parameters": [_param("IdempotencyKey")]},
    },
    "/alliances/{alliance_id}/balance": {
        "parameters": [_param("AllianceId")],
        "get": _get("get_balance", "Every partner's balance, for the whole ledger or a date range", "Balance",
                    400, 404, params=[_param("From"), _param("To")]),
    },
    "/alliances/{alliance_id}/export": {
        "parameters": [_param("AllianceId")],
        "get": {
            "operationId": "export",
            "summary": "The ledger of a period as an .xlsx workbook (Summary with live formulas, Ledger, Splits, "
                       "Allocation, Settlements, Activity) or as CSV; any member may export",
            "parameters": [
                _query("format", {"type": "string", "enum": ["xlsx", "csv"], "default": "xlsx"},
                       "xlsx (default) or csv (the Ledger sheet's columns)."),
                {**PARAMETERS["From"], "description": "First day of the period (inclusive); default the start "
                                                      "of the term."},
                {**PARAMETERS["To"], "description": "Last day of the period (inclusive); default the end of "
                                                    "the term."},
            ],
            "responses": {
                "200": {
                    "description": "The file, as an attachment named after the alliance, the period and the "
                                   "time of export.",
                    "headers": {"Content-Disposition": {"description": "attachment; filename=...",
                                                        "schema": {"type": "string"}}},
                    "content": {
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                            "schema": {"type": "string", "contentMediaType": "application/vnd.openxmlformats-"
                                                                             "officedocument.spreadsheetml.sheet"}},
                        "text/csv": {"schema": {"type": "string", "contentMediaType": "text/csv"}},
                    },
                },
                **_errors(400, 404),
            },
        },
    },
    "/alliances/{alliance_id}/settle-up": {
        "parameters": [_param("AllianceId")],
        "get": _get("get_settle_up", "The transfers that would bring every net of the whole ledger to zero",
                    "SettleUp", 404),
        "post": _settle_up_post(),
    },
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "Alliance Ledger API",
        "version": "1.0.0",
        "description": "The joint books of a cause-based alliance. Authenticate with a personal token: "
                       "'Authorization: Bearer <token>' (create one on your account page or with "
                       "'flask --app wsgi ledger token create EMAIL'). Amounts are decimal strings. An "
                       "alliance you are not a member of answers 404, exactly like one that does not exist.",
    },
    "servers": [{"url": PREFIX}],
    "security": [{"bearerAuth": []}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        "schemas": SCHEMAS,
        "parameters": PARAMETERS,
        "responses": RESPONSES,
    },
}


def document() -> dict:
    """A copy, so nobody can change the contract at run time by mutating what they were given."""
    return copy.deepcopy(DOCUMENT)


# Closed periods and sign-offs (issue 4). Added to the same dicts DOCUMENT holds, so they are part of it.
_SIGNOFF_STATUS = {"type": "string", "enum": ["signed", "disputed", "pending"],
                   "description": "The partner's newest answer; pending while it has given none."}
SCHEMAS.update({
    "SignOff": obj({
        "id": ID, "partner_id": ID, "status": {"type": "string", "enum": ["signed", "disputed"]},
        "comment": nullable({"type": "string", "description": "The partner's comment (\"\" if none); null for a "
                             "reader who may not see it: only the partner's own members, the coordinator and "
                             "accountants read sign-off comments."}),
        "signed_by": STRING, "created_at": DATETIME,
    }),
    "PeriodPartner": obj({"partner_id": ID, "partner": STRING, "status": _SIGNOFF_STATUS,
                          "signoff": nullable(ref("SignOff"))}),
    "Period": obj({
        "id": ID, "start_date": {**DATE, "description": "The day after the previous close, or the term's start."},
        "end_date": DATE, "closed_by": STRING, "closed_at": DATETIME,
        "partners": {"type": "array", "items": ref("PeriodPartner")},
    }),
    "PeriodList": obj({"closed_through": nullable(DATE), "periods": {"type": "array", "items": ref("Period")}}),
    "PeriodInput": obj({
        "end_date": {**DATE, "description": "After the last close, within the term, and before today."},
    }),
    "Statement": obj({
        "period_id": ID, "start_date": DATE, "end_date": DATE, "partner_id": ID, "partner": STRING,
        "currency": STRING, "borne": ref("Money"), "cost_share": ref("Money"), "received": ref("Money"),
        "return_share": ref("Money"), "net": ref("Money"), "status": _SIGNOFF_STATUS,
        "entries": {"type": "array", "items": ref("Entry"),
                    "description": "One page (newest first) of the partner's entries of the period, and "
                                   "settlements paid to it."},
        "entry_count": {"type": "integer", "minimum": 0, "description": "Those entries, all pages."},
        "next_cursor": nullable({"type": "string", "description": "Pass as cursor for the next page."}),
        "signoffs": {"type": "array", "items": ref("SignOff"), "description": "Every answer, newest first."},
    }),
    "SignOffInput": obj({
        "partner_id": {**ref("IdInput"), "description": "Default: the caller's own partner."},
        "status": {"type": "string", "enum": ["signed", "disputed"]},
        "comment": {"type": "string", "description": "Required for a dispute."},
    }, required=["status"]),
})
PARAMETERS["PeriodId"] = _path_id("period_id", "closed period")
PATHS.update({
    "/alliances/{alliance_id}/periods": {
        "parameters": [_param("AllianceId")],
        "get": _get("list_periods", "Closed periods, oldest first, with every partner's sign-off status",
                    "PeriodList", 404),
        "post": _post("create_period", "Close the books through end_date (coordinator or accountant); entries, "
                      "reversals, imports and agreement versions dated up to it are then refused",
                      "PeriodInput", "Period", *WRITE_ERRORS, 409),
    },
    "/alliances/{alliance_id}/periods/{period_id}": {
        "parameters": [_param("AllianceId"), _param("PeriodId")],
        "get": _get("get_period", "One closed period with every partner's sign-off status", "Period", 404),
    },
    "/alliances/{alliance_id}/periods/{period_id}/statements/{partner_id}": {
        "parameters": [_param("AllianceId"), _param("PeriodId"), _param("PartnerId")],
        "get": _get("get_statement", "A partner's statement for a closed period (its members, coordinator, "
                    "accountant, steering); its entries a page at a time", "Statement", 400, 403, 404,
                    params=[_query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                             "default": DEFAULT_LIMIT}, "Entries a page."),
                            _query("cursor", STRING, "next_cursor of the previous page.")]),
    },
    "/alliances/{alliance_id}/periods/{period_id}/signoffs": {
        "parameters": [_param("AllianceId"), _param("PeriodId")],
        "post": _post("create_signoff", "Sign off or dispute a partner's statement (that partner's members only); "
                      "supersedes its previous answer", "SignOffInput", "SignOff", *WRITE_ERRORS),
    },
})


# Value balance indicators (issue 5). Added to the same dicts DOCUMENT holds, so they are part of it.
_FRACTION = {"type": "string", "pattern": r"^-?\d+(\.\d{1,4})?$", "examples": ["0.5234"],
             "description": "A ratio as a decimal string rounded to 4 places, trailing zeros dropped."}
_CENTS = {"type": "integer", "description": "Minor units of the alliance's currency (cents for EUR)."}
SCHEMAS.update({
    "IndicatorPartner": obj({
        "partner_id": ID, "name": STRING, "type": enum_of(PartnerType),
        "put_in": {**_CENTS, "description": "Costs, contributions and service fees up to as_of (reversals net "
                                            "out; settlements are not value put in), in minor units."},
        "share": {**_FRACTION, "description": "put_in / total_put_in (0 when nothing was put in)."},
        "agreed_share": {**_FRACTION, "description": "The partner's part of the cost pools of what was put in."},
        "drift": {**_FRACTION, "description": "share - agreed_share: positive, it puts in more than agreed."},
        "net": {**_CENTS, "description": "Net balance as of as_of, as on the balance page, in minor units."},
    }),
    "NetSeries": obj({"partner_id": ID, "name": STRING,
                      "values": {"type": "array", "items": INTEGER,
                                 "description": "Net at the end of each month of labels, in minor units."}}),
    "Indicators": obj({
        "as_of": nullable(DATE), "currency": STRING,
        "partners": {"type": "array", "items": ref("IndicatorPartner")},
        "total_put_in": _CENTS,
        "hhi": {**_FRACTION, "description": "Herfindahl index of the shares of value put in, 0 to 1."},
        "hhi_threshold": {**_FRACTION, "description": "The alliance's threshold for hhi."},
        "hhi_flagged": {"type": "boolean", "description": "hhi is above hhi_threshold."},
        "types_present": {"type": "integer", "minimum": 0, "description": "Partner types present in the alliance."},
        "types_total": {"type": "integer", "description": "How many partner types there are (7)."},
        "diversity": {**_FRACTION, "description": "(types_present / types_total) squared."},
        "net_over_time": obj({
            "labels": {"type": "array", "items": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
                       "description": "Months (YYYY-MM) from the term's start to as_of."},
            "series": {"type": "array", "items": ref("NetSeries")},
        }),
    }),
})
PARAMETERS["AsOf"] = _query("as_of", DATE, "Count entries dated up to this day (inclusive); default: all.")
PATHS.update({
    "/alliances/{alliance_id}/indicators": {
        "parameters": [_param("AllianceId")],
        "get": _get("get_indicators", "Value balance indicators: each partner's share of the value put in against "
                    "its agreed share, dependency concentration (HHI), partner diversity, net position by month",
                    "Indicators", 400, 404, params=[_param("AsOf")]),
    },
})


# Renewal checkpoints (issue 5). Added to the same dicts DOCUMENT holds, so they are part of it.
_DECISIONS = ["renew", "renegotiate", "terminate"]
_SCORE = {"type": "integer", "minimum": 1, "maximum": 5, "description": "1 (poor) to 5 (excellent)."}
_CHALLENGES = ["delays", "dependency", "missing_incentives", "value_distribution", "unknown_costs_or_prices",
               "other"]
_QUORUM_RULES = ["protagonists", "all_partners", "all_steering", "steering_majority"]
_AVERAGE = {"type": ["number", "null"], "description": "Mean over partners' current assessments; null if none."}
SCHEMAS.update({
    "Checkpoint": obj({
        "id": ID, "label": STRING, "due_date": DATE,
        "state": {"type": "string", "enum": ["scheduled", "open", "decided"],
                  "description": "scheduled: not open yet; open: figures frozen, awaiting the decision; decided."},
        "overdue": {"type": "boolean", "description": "Its date has passed and no decision is recorded yet."},
        "opened_at": nullable(DATETIME),
        "opened_by": {"type": ["string", "null"], "description": "Null when it opened by itself on its date."},
        "as_of": {**nullable(DATE), "description": "The day the frozen figures are as of."},
        "snapshot_sha256": {"type": ["string", "null"], "description": "SHA-256 of the stored snapshot's JSON."},
        "decision": {"type": ["string", "null"], "enum": [*_DECISIONS, None]},
        "decision_date": {**nullable(DATE), "description": "renew: the new end of the term; renegotiate: when the "
                                                           "new versions apply; terminate: the alliance's last day."},
        "rationale": STRING, "decided_by": nullable(STRING), "decided_at": nullable(DATETIME),
    }),
    "CheckpointList": obj({
        "quorum": {"type": "string", "enum": _QUORUM_RULES}, "hhi_threshold": {"type": "string"},
        "checkpoints": {"type": "array", "items": ref("Checkpoint"), "description": "By date."},
    }),
    "CheckpointInput": obj({
        "due_date": {**DATE, "description": "After the term's start, up to its end; one checkpoint a day."},
        "label": {"type": "string", "description": "Default: named after the date (\"3-month review\")."},
    }, required=["due_date"]),
    "SnapshotBalanceRow": obj({
        "partner_id": ID, "name": STRING, "borne": ref("Money"), "cost_share": ref("Money"),
        "received": ref("Money"), "return_share": ref("Money"), "net": ref("Money"),
    }),
    "SnapshotTransfer": obj({"payer_id": ID, "payer": STRING, "payee_id": ID, "payee": STRING,
                             "amount": ref("Money")}),
    "Snapshot": obj({
        "format": {"type": "integer", "description": "The snapshot's shape version."},
        "as_of": DATE, "taken_at": DATETIME,
        "alliance": obj({"name": STRING, "currency": STRING, "start_date": DATE, "term_end": DATE},
                        description="The alliance as it was when the figures froze."),
        "charter_version": nullable(INTEGER), "agreement_version": nullable(INTEGER),
        "balance": obj({
            "rows": {"type": "array", "items": ref("SnapshotBalanceRow")},
            "totals": obj({f: ref("Money") for f in ("borne", "cost_share", "received", "return_share", "net")}),
            "entry_count": {"type": "integer", "minimum": 0},
        }),
        "settle_up": {"type": "array", "items": ref("SnapshotTransfer")},
        "targets": {"type": "array", "items": {"type": "object"},
                    "description": "Targets against actuals as of as_of, as the targets page computed them then "
                                   "(quantities as decimal strings)."},
        "indicators": {**ref("Indicators"), "description": "The value balance indicators as of as_of, as GET "
                                                           "/alliances/{alliance_id}/indicators computed them then."},
    }, description="The figures frozen when the checkpoint opened; they never change afterwards."),
    "Assessment": obj({
        "id": ID, "partner_id": ID, "partner": STRING, "satisfaction": _SCORE, "fairness": _SCORE,
        "commitment": _SCORE, "trust": _SCORE,
        "challenges": {"type": "array", "items": {"type": "string", "enum": _CHALLENGES}},
        "comments": STRING, "assessed_by": STRING, "created_at": DATETIME,
    }),
    "AssessmentInput": obj({
        "partner_id": {**ref("IdInput"), "description": "Default: the caller's own partner."},
        "satisfaction": _SCORE, "fairness": _SCORE, "commitment": _SCORE, "trust": _SCORE,
        "challenges": {"type": "array", "items": {"type": "string", "enum": _CHALLENGES}},
        "comments": {"type": "string", "description": "Required when challenges include other."},
    }, required=["satisfaction", "fairness", "commitment", "trust"]),
    "Vote": obj({
        "id": ID, "user_id": ID, "voter": STRING,
        "partner_id": {**nullable(ID), "description": "The partner the voter sat for; null if independent."},
        "partner": nullable(STRING), "choice": {"type": "string", "enum": _DECISIONS}, "reason": STRING,
        "created_at": DATETIME,
    }),
    "VoteInput": obj({
        "choice": {"type": "string", "enum": _DECISIONS}, "reason": {"type": "string", "minLength": 1},
    }, required=["choice", "reason"]),
    "DecisionInput": obj({
        "decision": {"type": "string", "enum": _DECISIONS}, "rationale": {"type": "string", "minLength": 1},
        "new_term_end": {**DATE, "description": "renew: after the current end of the term."},
        "effective_from": {**DATE, "description": "renegotiate: within the term, after the last closed period."},
        "end_date": {**DATE, "description": "terminate: within the term, not before the last entry; default today."},
    }, required=["decision", "rationale"]),
    "SteeringMember": obj({"user_id": ID, "name": STRING, "partner_id": nullable(ID), "partner": nullable(STRING),
                           "voted": {"type": "boolean"}}),
    "Review": obj({
        "checkpoint": ref("Checkpoint"),
        "snapshot": nullable(ref("Snapshot")),
        "snapshot_intact": {"type": "boolean", "description": "The stored snapshot still has its SHA-256."},
        "assessments": {"type": "array", "items": ref("Assessment"), "description": "Each partner's newest."},
        "assessment_history": {"type": "array", "items": ref("Assessment"), "description": "All, newest first."},
        "steering": {"type": "array", "items": ref("SteeringMember")},
        "votes": {"type": "array", "items": ref("Vote"), "description": "Each steering member's newest vote."},
        "vote_history": {"type": "array", "items": ref("Vote"), "description": "All, newest first."},
        "tally": obj({d: {"type": "integer", "minimum": 0} for d in _DECISIONS}),
        "leading": {"type": ["string", "null"], "enum": [*_DECISIONS, None],
                    "description": "The choice with most votes; null on a tie or with no votes."},
        "quorum": obj({
            "rule": {"type": "string", "enum": _QUORUM_RULES}, "met": {"type": "boolean"},
            "missing": {"type": "array", "items": STRING, "description": "What is missing, in words."},
            "unrepresented": {"type": "array", "items": ID,
                              "description": "Partners the rule needs whose vote no steering member can give."},
        }),
        "averages": obj(dict.fromkeys(("satisfaction", "fairness", "commitment", "trust"), _AVERAGE)),
        "challenge_counts": obj({c: {"type": "integer", "minimum": 0} for c in _CHALLENGES}),
    }),
    "ReviewSettings": obj({
        "quorum": {"type": "string", "enum": _QUORUM_RULES},
        "hhi_threshold": {"type": "string", "description": "Dependency threshold, a decimal between 0 and 1."},
    }),
    "EmptyInput": obj({}, description="No fields: an empty body, or {}."),
    "ReviewSettingsInput": obj({
        "quorum": {"type": "string", "enum": _QUORUM_RULES},
        "hhi_threshold": {"type": ["string", "number"], "description": "Above 0, at most 1, up to 4 decimals."},
    }, required=[]),
})
PARAMETERS["CheckpointId"] = _path_id("checkpoint_id", "checkpoint")
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _action(op_id: str, summary: str, schema: str, body: str | None, *errors: int) -> dict:
    """A POST that changes an object and answers 200 with it (not a creation)."""
    op = {"operationId": op_id, "summary": summary, "responses": {**_ok(schema, summary), **_errors(*errors)}}
    if body:
        op["requestBody"] = _body(body)
    return op


PATHS.update({
    "/alliances/{alliance_id}/checkpoints": {
        "parameters": [_param("AllianceId")],
        "get": _get("list_checkpoints", "The review schedule with the review settings; checkpoints whose date "
                    "has come open on this call", "CheckpointList", 404),
        "post": _post("create_checkpoint", "Schedule a checkpoint (coordinator only)", "CheckpointInput",
                      "Checkpoint", *WRITE_ERRORS),
    },
    "/alliances/{alliance_id}/checkpoints/{checkpoint_id}": {
        "parameters": [_param("AllianceId"), _param("CheckpointId")],
        "get": _get("get_checkpoint", "A checkpoint's review: the frozen snapshot, assessments, votes, tally, "
                    "quorum and decision", "Review", 404),
    },
    "/alliances/{alliance_id}/checkpoints/{checkpoint_id}/open": {
        "parameters": [_param("AllianceId"), _param("CheckpointId")],
        "post": {**_action("open_checkpoint", "Open a checkpoint before its date (coordinator only): its figures "
                           "freeze as of today", "Review", None, 400, 403, 404, 409, 422),
                 "requestBody": _body("EmptyInput", required=False)},
    },
    "/alliances/{alliance_id}/checkpoints/{checkpoint_id}/assessments": {
        "parameters": [_param("AllianceId"), _param("CheckpointId")],
        "post": _post("create_assessment", "A partner's assessment (its own members, incl. a steering member "
                      "sitting for it); replaces its previous one", "AssessmentInput", "Assessment",
                      *WRITE_ERRORS, 409),
    },
    "/alliances/{alliance_id}/checkpoints/{checkpoint_id}/votes": {
        "parameters": [_param("AllianceId"), _param("CheckpointId")],
        "post": _post("create_vote", "A steering member's vote; replaces their previous one", "VoteInput", "Vote",
                      *WRITE_ERRORS, 409),
    },
    "/alliances/{alliance_id}/checkpoints/{checkpoint_id}/decision": {
        "parameters": [_param("AllianceId"), _param("CheckpointId")],
        "post": _action("decide_checkpoint", "Record the decision once the quorum has voted (coordinator only): "
                        "renew extends the term, renegotiate opens new versions, terminate ends the alliance",
                        "Review", "DecisionInput", *WRITE_ERRORS, 409),
    },
    "/alliances/{alliance_id}/checkpoints/{checkpoint_id}/review-pack": {
        "parameters": [_param("AllianceId"), _param("CheckpointId")],
        "get": {
            "operationId": "get_review_pack",
            "summary": "The review pack as .xlsx: Summary, Balance, Settle-up, Targets, Indicators, Assessments, "
                       "Votes, all from the frozen snapshot; 409 before the checkpoint opens",
            "responses": {
                "200": {"description": "The workbook, as an attachment named after the alliance and the checkpoint.",
                        "headers": {"Content-Disposition": {"description": "attachment; filename=...",
                                                            "schema": {"type": "string"}}},
                        "content": {_XLSX: {"schema": {"type": "string", "contentMediaType": _XLSX}}}},
                **_errors(404, 409),
            },
        },
    },
    "/alliances/{alliance_id}/review-settings": {
        "parameters": [_param("AllianceId")],
        "get": _get("get_review_settings", "The alliance's quorum rule and dependency threshold", "ReviewSettings",
                    404),
        "post": _action("update_review_settings", "Change the quorum rule and/or the dependency threshold "
                        "(coordinator only); a field left out keeps its value", "ReviewSettings",
                        "ReviewSettingsInput", *WRITE_ERRORS),
    },
})


# The charter, targets against actuals and measurements (issue 5). Added to the same dicts DOCUMENT holds.
_QUANTITY = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "examples": ["2000000", "0.25"],
             "description": "An exact decimal as a plain string (no exponent, at most 4 decimals)."}
_QUANTITY_INPUT = {"type": ["string", "number", "integer"], "examples": ["2,000,000", "2000000.5"],
                   "description": "Zero or more, at most 4 decimals, under 10^14. Text may group thousands with "
                                  "commas (\"2,000,000\"); a point marks decimals. NaN, infinities and exponents "
                                  "(\"1e6\") are refused."}
_TARGET_ENUMS = {
    "period": {"type": "string", "enum": ["month", "quarter", "year", "term"],
               "description": "The span one figure covers: a calendar month, quarter or year, or the whole term."},
    "direction": {"type": "string", "enum": ["at_least", "at_most"],
                  "description": "at_least: reached when the actual is the target or more (masks made); at_most: "
                                 "when it is the target or less (cost per mask)."},
    "combine": {"type": "string", "enum": ["sum", "latest"],
                "description": "How partners' figures make a period's actual: the sum of each partner's newest "
                               "figure, or the newest figure of all."},
}
SCHEMAS.update({
    "Quantity": _QUANTITY,
    "CharterCommitment": obj({"partner_id": ID, "partner": STRING, "expects": STRING, "brings": STRING}),
    "CharterTarget": obj({"target_id": ID, "name": STRING, "unit": STRING, **_TARGET_ENUMS,
                          "value": {**ref("Quantity"), "description": "The target value this version sets."}}),
    "CharterVersionSummary": obj({
        "number": {"type": "integer", "minimum": 1}, "effective_from": DATE, "term_end": DATE,
        "change_note": STRING, "created_by": nullable(STRING), "created_at": DATETIME,
        "changes": {"type": "array", "items": STRING,
                    "description": "What this version changed against the previous one, in words "
                                   "(\"term end 2022-03-31 -> 2022-09-30\"); [\"first version\"] for version 1."},
    }),
    "CharterVersion": obj({
        "number": {"type": "integer", "minimum": 1}, "effective_from": DATE, "term_end": DATE,
        "change_note": STRING, "created_by": nullable(STRING), "created_at": DATETIME,
        "changes": {"type": "array", "items": STRING}, "cause": STRING, "objective": STRING, "term_start": DATE,
        "commitments": {"type": "array", "items": ref("CharterCommitment")},
        "targets": {"type": "array", "items": ref("CharterTarget")},
    }),
    "Charter": obj({
        "in_force": {**ref("CharterVersion"), "description": "The version in force today (pulled into the term)."},
        "versions": {"type": "array", "items": ref("CharterVersionSummary"), "description": "Newest first."},
    }),
    "CharterCommitmentInput": obj({
        "partner_id": ref("IdInput"), "expects": {"type": "string", "maxLength": 4000},
        "brings": {"type": "string", "maxLength": 4000, "description": "Resources, skills, capacity."},
    }, required=["partner_id"]),
    "CharterTargetInput": obj({
        "target_id": {**ref("IdInput"), "description": "An existing target (its definition stays); or leave it "
                                                        "out and give name, unit and period for a new one."},
        "name": {"type": "string", "maxLength": 120, "description": "Unique in the alliance; a removed target's "
                                                                    "name with its definition brings it back."},
        "unit": {"type": "string", "maxLength": 40}, **_TARGET_ENUMS,
        "value": {**_QUANTITY_INPUT, "description": "The target value. " + _QUANTITY_INPUT["description"]},
    }, required=["value"]),
    "CharterInput": obj({
        "effective_from": {**DATE, "description": "Inside the term, not before the newest version's date; "
                                                  "default today, pulled into the term."},
        "cause": {"type": "string", "maxLength": CAUSE_MAX},
        "objective": {"type": "string", "maxLength": 4000},
        "term_end": {**DATE, "description": "Not before the term's start, the last entry or measured period, the "
                                            "closed-through date, or a checkpoint not yet opened."},
        "commitments": {"type": "array", "items": ref("CharterCommitmentInput"),
                        "description": "The whole list: a partner left out has no commitment in this version."},
        "targets": {"type": "array", "maxItems": 30, "items": ref("CharterTargetInput"),
                    "description": "The whole list: a target left out is removed from this version (its "
                                   "measurements stay). Errors are named targets-N-value, targets-N-name ..."},
        "change_note": {"type": "string", "maxLength": 1000},
    }, required=["term_end"]),
    "TargetPeriodProgress": obj({
        "start": DATE, "label": {"type": "string", "examples": ["May 2020", "Q2 2020", "2020", "Whole term"]},
        "target": {**nullable(_QUANTITY), "description": "Set by the charter in force on the period's first day."},
        "actual": nullable(_QUANTITY), "met": {"type": ["boolean", "null"]},
    }),
    "TargetProgress": obj({
        "target_id": ID, "name": STRING, "unit": STRING, **_TARGET_ENUMS,
        "period_label": {"type": "string", "examples": ["per month"]},
        "target": nullable(_QUANTITY),
        "periods": {"type": "array", "items": ref("TargetPeriodProgress"),
                    "description": "From the term's start up to the period holding as_of, oldest first."},
        "periods_measured": {"type": "integer", "minimum": 0}, "periods_met": {"type": "integer", "minimum": 0},
    }),
    "TargetsProgress": obj({"as_of": DATE, "targets": {"type": "array", "items": ref("TargetProgress")}}),
    "Measurement": obj({
        "id": ID, "target_id": ID, "target": STRING, "partner_id": ID, "partner": STRING,
        "period_start": DATE, "period_label": STRING, "value": ref("Quantity"), "note": STRING,
        "recorded_by": STRING, "recorded_at": DATETIME,
        "counts": {"type": "boolean", "description": "False once a newer figure of the same partner for the same "
                                                     "period replaced it."},
    }),
    "TargetDetail": obj({
        "target_id": ID, "name": STRING, "unit": STRING, **_TARGET_ENUMS,
        "progress": {**nullable(ref("TargetProgress")), "description": "Null when the charter in force has no "
                                                                       "such target any more."},
        "measurements": {"type": "array", "items": ref("Measurement"), "description": "Every figure, newest first."},
    }),
    "MeasurementInput": obj({
        "partner_id": {**ref("IdInput"), "description": "Default: the caller's own partner (a coordinator names one)."},
        "period": {"type": "string", "examples": ["2020-05", "2020-05-31"],
                   "description": "A month (YYYY-MM) or any day of the period (YYYY-MM-DD); inside the term, "
                                  "already begun."},
        "value": _QUANTITY_INPUT,
        "note": {"type": "string", "maxLength": DESCRIPTION_MAX},
    }, required=["period", "value"]),
})
PARAMETERS["CharterNumber"] = {"name": "number", "in": "path", "required": True,
                               "description": "The charter version's number (1, 2, ...).",
                               "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
PARAMETERS["TargetId"] = _path_id("target_id", "target")
PATHS.update({
    "/alliances/{alliance_id}/charter": {
        "parameters": [_param("AllianceId")],
        "get": _get("get_charter", "The charter in force (cause, objective, term, commitments, targets) and every "
                    "version with what it changed", "Charter", 404),
        "post": _post("save_charter_version", "Save a new charter version (coordinator only); 422 at charter when "
                      "nothing changed", "CharterInput", "CharterVersion", *WRITE_ERRORS),
    },
    "/alliances/{alliance_id}/charter/versions/{number}": {
        "parameters": [_param("AllianceId"), _param("CharterNumber")],
        "get": _get("get_charter_version", "One charter version, with what it changed against the previous one",
                    "CharterVersion", 404),
    },
    "/alliances/{alliance_id}/targets": {
        "parameters": [_param("AllianceId")],
        "get": _get("get_targets", "Every target of the charter in force, actual against target period by period",
                    "TargetsProgress", 400, 404,
                    params=[_query("as_of", DATE, "The day to read the figures as of (pulled into the term); "
                                                  "default today.")]),
    },
    "/alliances/{alliance_id}/targets/{target_id}": {
        "parameters": [_param("AllianceId"), _param("TargetId")],
        "get": _get("get_target", "One target: its progress and every figure recorded, superseded ones too",
                    "TargetDetail", 404),
    },
    "/alliances/{alliance_id}/targets/{target_id}/measurements": {
        "parameters": [_param("AllianceId"), _param("TargetId")],
        "post": _post("create_measurement", "Record a figure for a period (partner members for their partner, the "
                      "coordinator for any); replaces that partner's earlier figure for the period",
                      "MeasurementInput", "Measurement", *WRITE_ERRORS),
    },
})


# Tamper evidence (issue 6). Added to the same dicts DOCUMENT holds, so they are part of it.
_RECORD_TYPES = ["entry", "agreement_version", "charter_version", "checkpoint", "checkpoint_opened",
                 "checkpoint_decided", "checkpoint_removed", "assessment", "vote"]
_FINGERPRINT = {"type": "string", "pattern": r"^(\d+-[0-9a-f]{8,64}|0-genesis)$", "examples": ["42-3fa9c1d2e4b5a6f7"],
                "description": "A chain head as exports print it: position, dash, the first 16 hex digits of its hash."}
SCHEMAS.update({
    "ChainLink": obj({
        "position": {"type": "integer", "minimum": 1}, "record_type": {"type": "string", "enum": _RECORD_TYPES},
        "record_id": ID, "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    }),
    "ChainProblem": obj({
        "kind": {"type": "string", "enum": ["changed", "missing", "broken", "unlinked"],
                 "description": "changed: the record no longer gives its hash; missing: the record was deleted; "
                                "broken: a link was deleted or rewritten; unlinked: a record has no link."},
        "record_type": {"type": "string", "enum": _RECORD_TYPES}, "record_id": ID,
        "position": nullable({"type": "integer", "minimum": 1}), "message": STRING,
    }),
    "HeadCheck": obj({
        "fingerprint": _FINGERPRINT,
        "found": {"type": "boolean", "description": "The earlier head is still a link of the chain: nothing up to it "
                                                    "was rewritten."},
        "position": {"type": "integer", "minimum": 0},
        "added_since": {"type": "integer", "minimum": 0, "description": "Records chained after it (0 if not found)."},
        "last_position": {"type": "integer", "minimum": 0, "description": "The newest link's position now."},
        "code": {"type": "string", "enum": ["found", "cut_short", "rewritten"],
                 "description": "found; cut_short: it lies beyond the chain's end now (the newest records were "
                                "deleted with their links, or the chain rewritten); rewritten: the link at its "
                                "position is another (a record at or before it was changed and every later link "
                                "recomputed), or the head was mistyped."},
        "message": {**STRING, "description": "The same in words, as the Verify page says it."},
    }),
    "TotalsGap": obj({
        "kind": enum_of(EntryKind),
        "partner_id": ID, "partner": STRING,
        "counterparty_id": nullable(ID), "counterparty": nullable(STRING),
        "pool_id": nullable(ID), "pool": nullable(STRING),
        "category_id": nullable(ID), "category": nullable(STRING),
        "all_categories": {"type": "boolean", "description": "The figure of every category together (what "
                                                             "balances read), off while each category's agrees."},
        "held_entries": {"type": "integer", "minimum": 0, "description": "Entries the running totals count."},
        "entries": {"type": "integer", "minimum": 0, "description": "Entries there are."},
        "held_amount": {**ref("Money"), "description": "What the running totals (which balances read) hold."},
        "amount": {**ref("Money"), "description": "What the entries add up to."},
        "difference": {**ref("Money"), "description": "held_amount - amount."},
        "message": {**STRING, "description": "The same in words, as the Verify page says it."},
    }),
    "Chain": obj({
        "intact": {"type": "boolean", "description": "Every check passed: every record matches its link and every "
                                                     "link its predecessor, the running totals add up to the "
                                                     "entries, and the head given (if any) is still in the chain."},
        "state": {"type": "string", "enum": ["intact", "broken"], "description": "intact exactly when intact is "
                                                                                 "true."},
        "headline": {**STRING, "description": "The verdict in a few words, as the Verify page and `flask ledger "
                                              "verify` say it."},
        "message": {**STRING, "description": "The verdict in words a partner understands: the first record that "
                                             "does not match, the figures off and by how much, the head check."},
        "count": {"type": "integer", "minimum": 0, "description": "Links in the chain."},
        "fingerprint": _FINGERPRINT,
        "head": nullable(ref("ChainLink")),
        "problems": {"type": "array", "items": ref("ChainProblem"), "maxItems": PROBLEMS_SHOWN,
                     "description": f"In chain order, then records with no link; the first is the first break. "
                                    f"At most the first {PROBLEMS_SHOWN}."},
        "problem_count": {"type": "integer", "minimum": 0, "description": "Every problem found, listed or not."},
        "totals": {"type": "array", "items": ref("TotalsGap"),
                   "description": "Figures where the running totals that balances read differ from the entries "
                                  "(an entry changed or deleted behind the app's back)."},
        "head_check": nullable(ref("HeadCheck")),
    }),
    "ChainSegment": obj({
        "start": {"type": "integer", "minimum": 1, "description": "The first position asked for."},
        "end": {"type": "integer", "minimum": 0, "description": "The last position checked (start - 1: none)."},
        "last_position": {"type": "integer", "minimum": 0,
                          "description": "The newest link's position: the chain's length, when it is intact."},
        "next_start": nullable({"type": "integer", "minimum": 1, "description": "Pass as from for the next "
                                "segment; null: this was the last, GET .../chain/unlinked completes the check."}),
        "problems": {"type": "array", "items": ref("ChainProblem"), "maxItems": PROBLEMS_SHOWN,
                     "description": f"In chain order, at most the first {PROBLEMS_SHOWN} (a smaller limit lists "
                                    f"more of them)."},
        "problem_count": {"type": "integer", "minimum": 0, "description": "Every problem found in the segment."},
    }),
    "ChainUnlinked": obj({
        "problems": {"type": "array", "items": ref("ChainProblem"), "maxItems": PROBLEMS_SHOWN,
                     "description": f"Records no link vouches for, by type and id; at most the first "
                                    f"{PROBLEMS_SHOWN}."},
        "problem_count": {"type": "integer", "minimum": 0, "description": "Every one of them."},
    }),
})
PATHS.update({
    "/alliances/{alliance_id}/chain/segment": {
        "parameters": [_param("AllianceId")],
        "get": _get("get_chain_segment", "Verify the chain a segment at a time (a long chain): the links from "
                    "position from on, against their records as they are now", "ChainSegment", 400, 404,
                    params=[_query("from", {"type": "integer", "minimum": 1, "default": 1}, "First position."),
                            _query("limit", {"type": "integer", "minimum": 1, "maximum": SEGMENT,
                                             "default": SEGMENT}, "Links to check.")]),
    },
    "/alliances/{alliance_id}/chain/unlinked": {
        "parameters": [_param("AllianceId")],
        "get": _get("get_chain_unlinked", "The last step of a segmented check: records no link vouches for "
                    "(added behind the app's back)", "ChainUnlinked", 404),
    },
    "/alliances/{alliance_id}/chain": {
        "parameters": [_param("AllianceId")],
        "get": _get("get_chain", "Verify the alliance's hash chain (tamper evidence): intact, or every record that "
                    "no longer matches; its head; and, with head, whether an earlier export's head is still in it",
                    "Chain", 400, 404,
                    params=[_query("head", STRING, "The chain head an earlier export printed, to check against the "
                                                   "chain now.")]),
    },
})
PATHS["/alliances/{alliance_id}/export"]["get"]["responses"]["200"]["headers"]["X-Chain-Head"] = {
    "description": "The alliance's chain head when the file was made (also in the file name and the workbook's "
                   "Summary): keep it, and check it later with GET /alliances/{alliance_id}/chain?head=...",
    "schema": _FINGERPRINT}
