"""The OpenAPI 3.1 description of ``/api/v1``, written by hand as Python data.

Hand-written so that it is a contract, not a reflection of whatever the
code happens to do: the tests check that every route is described with the
same methods (and nothing else is), and that every response the tests see
validates against the schema given here. Output objects declare
``additionalProperties: false`` so an undocumented field fails those tests.
"""

from __future__ import annotations

import copy

from ledger.api.blueprint import MAX_ID, PREFIX
from ledger.api.inputs import DEFAULT_LIMIT, MAX_LIMIT
from ledger.domain.agreements import MAX_WEIGHT
from ledger.domain.vocabulary import EntryKind, MemberRole, PartnerRole, PartnerType, PoolSide
from ledger.models import CAUSE_MAX, DESCRIPTION_MAX, EMAIL_MAX, NAME_MAX, REFERENCE_MAX
from ledger.services.agreements import MAX_POOLS, NOTE_MAX

JSON = "application/json"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict, *, required: list[str] | None = None, closed: bool = True, **extra) -> dict:
    """An object schema; output objects are closed (every property listed, all of them always present)."""
    schema = {"type": "object", "properties": properties,
              "required": list(properties) if required is None else required, **extra}
    if closed:
        schema["additionalProperties"] = False
    return schema


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
MONEY = {
    "type": "string", "pattern": r"^-?\d+(\.\d+)?$", "examples": ["1234.56"],
    "description": "An exact amount in the alliance's currency as a decimal string, "
                   "with as many decimals as the currency has (EUR 2, JPY 0). Never a JSON number.",
}

SCHEMAS: dict[str, dict] = {
    "Error": obj({
        "error": obj({
            "status": {"type": "integer", "description": "The HTTP status, repeated."},
            "message": {"type": "string", "description": "What went wrong, for a person to read."},
            "fields": {
                "type": "object", "additionalProperties": {"type": "string"},
                "description": "For 400 and 422 when a field is at fault: body field (422) or query "
                               "parameter (400) name -> message. Pool fields are named pools-N-name, "
                               "pools-N-kinds, pools-N-shares ...",
            },
        }, required=["status", "message"]),
    }),
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
        "partner_id": nullable({**ID, "description": "The partner a partner member acts for."}),
    }),
    "AllianceInput": obj({
        "name": {"type": "string", "maxLength": NAME_MAX},
        "cause": {"type": "string", "maxLength": CAUSE_MAX},
        "currency": {"type": "string", "description": "ISO 4217 code, e.g. EUR."},
        "start_date": DATE,
        "term_end": {**DATE, "description": "On or after start_date, at most 50 years later."},
    }, required=["name", "currency", "start_date", "term_end"], closed=False),
    "Partner": obj({"id": ID, "name": STRING, "role": enum_of(PartnerRole), "type": enum_of(PartnerType)}),
    "PartnerInput": obj({
        "name": {"type": "string", "maxLength": NAME_MAX, "description": "Unique in the alliance."},
        "role": enum_of(PartnerRole), "type": enum_of(PartnerType),
    }, closed=False),
    "Category": obj({"id": ID, "name": STRING}),
    "CategoryInput": obj({"name": {"type": "string", "maxLength": NAME_MAX,
                                   "description": "Stored lower-case; unique in the alliance."}}, closed=False),
    "Member": obj({
        "id": {**ID, "description": "The membership's id."},
        "user_id": ID, "name": STRING, "email": STRING, "role": enum_of(MemberRole),
        "partner_id": nullable(ID), "partner": nullable(STRING), "created_at": DATETIME,
    }),
    "MemberInput": obj({
        "email": {"type": "string", "maxLength": EMAIL_MAX},
        "role": enum_of(MemberRole),
        "partner_id": {**ref("IdInput"), "description": "Required for a partner member, empty otherwise."},
        "name": {"type": "string", "maxLength": NAME_MAX,
                 "description": "Required when the email has no account yet."},
        "password": {"type": "string", "minLength": 8, "maxLength": 200,
                     "description": "The first password, required when the email has no account yet."},
    }, required=["email", "role"], closed=False),
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
    }, closed=False),
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
    }, required=["name", "side", "kinds", "shares"], closed=False),
    "AgreementVersionInput": obj({
        "effective_from": {**DATE, "description": "Inside the alliance's term; one version per date."},
        "note": {"type": "string", "maxLength": NOTE_MAX},
        "pools": {"type": "array", "minItems": 1, "maxItems": MAX_POOLS, "items": ref("PoolInput"),
                  "description": "No two pools may cover the same kind in the same category, and every "
                                 "entry already recorded in the version's span must fall into one."},
    }, required=["effective_from", "pools"], closed=False),
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
    }, required=["date", "partner_id", "kind", "amount", "description"], closed=False),
    "EntryPage": obj({
        "entries": {"type": "array", "items": ref("Entry")},
        "next_cursor": nullable({"type": "string", "description": "Pass as cursor for the next page."}),
        "count": {"type": "integer", "minimum": 0, "description": "Entries matching the filters, all pages."},
        "totals": {"type": "object", "propertyNames": enum_of(EntryKind), "additionalProperties": ref("Money"),
                   "description": "Sum of the amounts matching the filters, per kind."},
    }),
    "ReversalInput": obj({
        "date": {**DATE, "description": "Inside the term; default today, pulled into the term."},
        "reason": {"type": "string", "maxLength": 200},
    }, required=[], closed=False),
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
        "expected": {"type": "string", "description": "The fingerprint the caller saw; 409 if the suggestion "
                                                      "has changed since."},
    }, required=[], closed=False),
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
}

RESPONSES = {
    name: {"description": text, "content": {JSON: {"schema": ref("Error")}}}
    for name, text in _ERRORS.values()
}
RESPONSES["Unauthorized"]["headers"] = {
    "WWW-Authenticate": {"description": "Bearer challenge (RFC 6750).", "schema": {"type": "string"}}}


def _path_id(name: str, what: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": f"The {what}'s id.",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


PARAMETERS = {
    "AllianceId": _path_id("alliance_id", "alliance"),
    "PartnerId": _path_id("partner_id", "partner"),
    "CategoryId": _path_id("category_id", "category"),
    "MemberId": _path_id("member_id", "membership"),
    "VersionId": _path_id("version_id", "agreement version"),
    "EntryId": _path_id("entry_id", "entry"),
    "From": _query("from", DATE, "First day of the range (inclusive)."),
    "To": _query("to", DATE, "Last day of the range (inclusive); not before from."),
}


def _param(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def _errors(*codes: int) -> dict:
    return {str(code): {"$ref": f"#/components/responses/{_ERRORS[code][0]}"} for code in (401, *codes)}


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
        "post": _post("create_entry", "Record an entry (partner members for their own partner, coordinators "
                      "for any)", "EntryInput", "Entry", *WRITE_ERRORS),
    },
    "/alliances/{alliance_id}/entries/{entry_id}": {
        "parameters": [_param("AllianceId"), _param("EntryId")],
        "get": _get("get_entry", "One entry", "Entry", 404),
    },
    "/alliances/{alliance_id}/entries/{entry_id}/reversal": {
        "parameters": [_param("AllianceId"), _param("EntryId")],
        "post": _post("reverse_entry", "Reverse an entry with a new, negated entry (once; not a reversal)",
                      "ReversalInput", "Entry", *WRITE_ERRORS, 409, body_required=False),
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
        "post": _post("record_settle_up", "Record the suggested transfers as settlement entries (coordinator "
                      "only); 409 if there is nothing to settle or the suggestion changed", "SettleUpInput",
                      "SettleUpResult", *WRITE_ERRORS, 409, body_required=False),
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
        "comment": STRING, "signed_by": STRING, "created_at": DATETIME,
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
    }, closed=False),
    "Statement": obj({
        "period_id": ID, "start_date": DATE, "end_date": DATE, "partner_id": ID, "partner": STRING,
        "currency": STRING, "borne": ref("Money"), "cost_share": ref("Money"), "received": ref("Money"),
        "return_share": ref("Money"), "net": ref("Money"), "status": _SIGNOFF_STATUS,
        "entries": {"type": "array", "items": ref("Entry"),
                    "description": "The partner's entries of the period, and settlements paid to it."},
        "signoffs": {"type": "array", "items": ref("SignOff"), "description": "Every answer, newest first."},
    }),
    "SignOffInput": obj({
        "partner_id": {**ref("IdInput"), "description": "Default: the caller's own partner."},
        "status": {"type": "string", "enum": ["signed", "disputed"]},
        "comment": {"type": "string", "description": "Required for a dispute."},
    }, required=["status"], closed=False),
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
                    "accountant, steering)", "Statement", 403, 404),
    },
    "/alliances/{alliance_id}/periods/{period_id}/signoffs": {
        "parameters": [_param("AllianceId"), _param("PeriodId")],
        "post": _post("create_signoff", "Sign off or dispute a partner's statement (that partner's members only); "
                      "supersedes its previous answer", "SignOffInput", "SignOff", *WRITE_ERRORS),
    },
})
