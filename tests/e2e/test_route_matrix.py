"""Authorisation proven: every route of the URL map (pages and API), requested as every kind of user.

``EXPECTED`` is the one table of who may do what. The walk goes through ``app.url_map`` and requests
every (method, rule) as anonymous, as a member of another alliance (``outsider``), as a partner
member (Alpha's), an accountant, a steering member and the coordinator, and compares each answer with
the table. A route that is missing from the table, or an entry of the table whose route is gone,
fails the test: a new route cannot ship without saying who may use it.

How to read a row: 302 for anonymous is the redirect to the log-in page (401 on the API); 404 for the
outsider means another alliance's URLs look exactly like URLs that do not exist; 403 is a member
whose role may not do it; for a role that may, a write is sent a body chosen to get past the
authorisation and be stopped by validation (422) or a state rule (409), so the walk adds no row and
every role sees the same data (the few 302s on writes are commented where they are).

The object-level tests below put ids of *another* alliance's objects into URLs and bodies of the
case's alliance: they must be refused (404 in a URL; 422 at the field, or 404, in a body), and
nothing may be written.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import AgreementVersion, Checkpoint, Membership, Target, User
from ledger.services import agreements, alliances, checkpoints, entries, periods
from ledger.services.charter import save_charter
from ledger.services.users import create_token
from tests.builders import PASSWORD, TODAY, Case, acting, charter_with_a_measured_target, fifty_fifty_pools, record
from tests.e2e.api_support import make_tokens, row_counts
from tests.e2e.test_checkpoint_pages import add_steering, opened, voted
from tests.e2e.test_web_entries import error_at
from tests.import_files import csv_bytes

ROLES = ("anonymous", "outsider", "partner", "accountant", "steering", "coordinator")
#: The case's user who plays each role (the partner member is Alpha's).
USERS = {"outsider": "outsider", "partner": "alpha", "accountant": "accountant", "steering": "steering",
         "coordinator": "coordinator"}


def codes(anonymous: int, outsider: int, partner: int, accountant: int, steering: int, coordinator: int) -> dict:
    return dict(zip(ROLES, (anonymous, outsider, partner, accountant, steering, coordinator), strict=True))


A = "/a/<id:alliance_id>"
API = "/api/v1/alliances/<id:alliance_id>"
CP = "/checkpoints/<id:checkpoint_id>"

# Shorthands for the most common rows.
WEB_MEMBERS = codes(302, 404, 200, 200, 200, 200)  # any member reads it
WEB_RECORDERS_FORM = codes(302, 404, 200, 403, 403, 200)  # partner members and the coordinator record
API_MEMBERS = codes(401, 404, 200, 200, 200, 200)
API_COORDINATOR_WRITE = codes(401, 404, 403, 403, 403, 422)  # only the coordinator (an empty body: 422)

EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    # (method, rule): codes(anonymous, outsider, partner member, accountant, steering member, coordinator)
    # ---- logging in and the user's own pages (no alliance: the outsider is just a logged-in user) -----
    # Logged in already: /login sends you home. An empty log-in form is shown again with its errors (200).
    ("GET", "/login"):                                          codes(200, 302, 302, 302, 302, 302),
    ("POST", "/login"):                                         codes(200, 302, 302, 302, 302, 302),
    ("POST", "/logout"):                                        codes(302, 302, 302, 302, 302, 302),
    ("GET", "/"):                                               codes(302, 200, 200, 200, 200, 200),
    ("GET", "/account"):                                        codes(302, 200, 200, 200, 200, 200),
    ("POST", "/account"):                                       codes(302, 422, 422, 422, 422, 422),  # token: no name
    # The token is the coordinator's own: anyone else's revoke is a 404, as for a token that does not exist.
    ("POST", "/account/tokens/<id:token_id>/revoke"):           codes(302, 404, 404, 404, 404, 302),
    # Anyone logged in may start an alliance (and becomes its coordinator).
    ("GET", "/alliances/new"):                                  codes(302, 200, 200, 200, 200, 200),
    ("POST", "/alliances/new"):                                 codes(302, 422, 422, 422, 422, 422),

    # ---- an alliance's books -------------------------------------------------------------------------
    ("GET", f"{A}/"):                                           WEB_MEMBERS,
    ("GET", f"{A}/ledger"):                                     WEB_MEMBERS,
    ("GET", f"{A}/balance"):                                    WEB_MEMBERS,
    ("GET", f"{A}/activity"):                                   WEB_MEMBERS,
    ("GET", f"{A}/events"):                                     WEB_MEMBERS,  # the live stream
    # Every member sets their own alert threshold ("lots" is not an amount: 422).
    ("POST", f"{A}/notify"):                                    codes(302, 404, 422, 422, 422, 422),
    ("GET", f"{A}/entries/new"):                                WEB_RECORDERS_FORM,
    ("POST", f"{A}/entries/new"):                               codes(302, 404, 422, 403, 403, 422),
    ("GET", f"{A}/entries/<id:entry_id>"):                      WEB_MEMBERS,
    ("POST", f"{A}/entries/<id:entry_id>/reverse"):             codes(302, 404, 422, 403, 403, 422),  # Alpha's entry
    # The coordinator's settle-up with a stale fingerprint: 409, nothing recorded.
    ("POST", f"{A}/settle-up"):                                 codes(302, 404, 403, 403, 403, 409),
    ("GET", f"{A}/export"):                                     WEB_MEMBERS,
    ("GET", f"{A}/verify"):                                     WEB_MEMBERS,  # tamper evidence: the hash chain
    ("GET", f"{A}/verify/segment"):                             WEB_MEMBERS,  # a long chain, a segment a request
    ("GET", f"{A}/verify/rest"):                                WEB_MEMBERS,
    ("GET", f"{A}/settings"):                                   WEB_MEMBERS,  # the time zone, today there
    ("POST", f"{A}/settings"):                                  codes(302, 404, 403, 403, 403, 422),  # empty: UTC
    ("GET", f"{A}/import"):                                     WEB_RECORDERS_FORM,
    ("POST", f"{A}/import"):                                    codes(302, 404, 422, 403, 403, 422),  # no file
    ("GET", f"{A}/import/<sha>"):                               WEB_RECORDERS_FORM,
    ("POST", f"{A}/import/<sha>/preview"):                      codes(302, 404, 422, 403, 403, 422),  # no mapping
    ("POST", f"{A}/import/<sha>/run"):                          codes(302, 404, 422, 403, 403, 422),

    # ---- partners, members, the split agreement --------------------------------------------------------
    ("GET", f"{A}/partners"):                                   WEB_MEMBERS,
    ("POST", f"{A}/partners"):                                  codes(302, 404, 403, 403, 403, 422),
    ("GET", f"{A}/members"):                                    WEB_MEMBERS,
    ("POST", f"{A}/members"):                                   codes(302, 404, 403, 403, 403, 422),
    ("GET", f"{A}/agreement"):                                  WEB_MEMBERS,
    ("GET", f"{A}/agreement/new"):                              codes(302, 404, 403, 403, 403, 200),
    ("POST", f"{A}/agreement/new"):                             codes(302, 404, 403, 403, 403, 422),

    # ---- closed periods and statements (the partner's own statement: Alpha's) -------------------------
    ("GET", f"{A}/periods"):                                    WEB_MEMBERS,
    ("POST", f"{A}/periods"):                                   codes(302, 404, 403, 422, 403, 422),  # acct closes
    ("GET", f"{A}/periods/<id:period_id>/statements/<id:partner_id>"): WEB_MEMBERS,
    # Only the partner's own members sign off its statement, not even the coordinator.
    ("POST", f"{A}/periods/<id:period_id>/statements/<id:partner_id>"): codes(302, 404, 422, 403, 403, 403),

    # ---- the value lifecycle: charter, targets, indicators ----------------------------------------------
    ("GET", f"{A}/charter"):                                    WEB_MEMBERS,
    ("GET", f"{A}/charter/edit"):                               codes(302, 404, 403, 403, 403, 200),
    ("POST", f"{A}/charter/edit"):                              codes(302, 404, 403, 403, 403, 422),
    ("GET", f"{A}/charter/versions/<id:number>"):               WEB_MEMBERS,
    ("GET", f"{A}/targets"):                                    WEB_MEMBERS,
    ("GET", f"{A}/targets/<id:target_id>"):                     WEB_MEMBERS,
    ("POST", f"{A}/targets/measurements"):                      codes(302, 404, 422, 403, 403, 422),
    ("GET", f"{A}/indicators"):                                 WEB_MEMBERS,

    # ---- checkpoints (the case's checkpoint is open, assessed, and the quorum has voted) --------------
    ("GET", f"{A}/checkpoints"):                                WEB_MEMBERS,
    ("POST", f"{A}/checkpoints"):                               codes(302, 404, 403, 403, 403, 422),
    # The first suggested day is taken: the coordinator is sent back with a message, nothing scheduled.
    ("POST", f"{A}/checkpoints/suggested"):                     codes(302, 404, 403, 403, 403, 302),
    ("POST", f"{A}/checkpoints/settings"):                      codes(302, 404, 403, 403, 403, 422),
    ("GET", f"{A}{CP}"):                                        WEB_MEMBERS,
    ("GET", f"{A}{CP}/pack"):                                   WEB_MEMBERS,
    ("GET", f"{A}{CP}/pack.xlsx"):                              WEB_MEMBERS,
    ("POST", f"{A}{CP}/open"):                                  codes(302, 404, 403, 403, 403, 409),  # already open
    ("POST", f"{A}{CP}/remove"):                                codes(302, 404, 403, 403, 403, 409),  # open: stays
    # Assessing for Alpha: Alpha's member may (no scores: 422); the steering member sits for no partner.
    ("POST", f"{A}{CP}/assessments"):                           codes(302, 404, 422, 403, 403, 403),
    ("POST", f"{A}{CP}/votes"):                                 codes(302, 404, 403, 403, 422, 403),
    ("POST", f"{A}{CP}/decision"):                              codes(302, 404, 403, 403, 403, 422),

    # ---- the API: bearer tokens only, 401 without one (the same rules as the pages) --------------------
    ("GET", "/api/v1/openapi.json"):                            codes(200, 200, 200, 200, 200, 200),  # public
    ("GET", "/api/v1/alliances"):                               codes(401, 200, 200, 200, 200, 200),  # one's own
    ("POST", "/api/v1/alliances"):                              codes(401, 422, 422, 422, 422, 422),
    ("GET", API):                                               API_MEMBERS,
    ("PATCH", API):                                             API_COORDINATOR_WRITE,  # {}: nothing changed
    ("GET", f"{API}/partners"):                                 API_MEMBERS,
    ("POST", f"{API}/partners"):                                API_COORDINATOR_WRITE,
    ("GET", f"{API}/partners/<id:partner_id>"):                 API_MEMBERS,
    ("GET", f"{API}/categories"):                               API_MEMBERS,
    ("POST", f"{API}/categories"):                              API_COORDINATOR_WRITE,
    ("GET", f"{API}/categories/<id:category_id>"):              API_MEMBERS,
    ("GET", f"{API}/members"):                                  API_MEMBERS,
    ("POST", f"{API}/members"):                                 API_COORDINATOR_WRITE,
    ("GET", f"{API}/members/<id:member_id>"):                   API_MEMBERS,
    ("GET", f"{API}/agreement/versions"):                       API_MEMBERS,
    ("POST", f"{API}/agreement/versions"):                      API_COORDINATOR_WRITE,
    ("GET", f"{API}/agreement/versions/<id:version_id>"):       API_MEMBERS,
    ("GET", f"{API}/entries"):                                  API_MEMBERS,
    ("POST", f"{API}/entries"):                                 codes(401, 404, 422, 403, 403, 422),
    ("GET", f"{API}/entries/<id:entry_id>"):                    API_MEMBERS,
    ("POST", f"{API}/entries/<id:entry_id>/reversal"):          codes(401, 404, 422, 403, 403, 422),
    ("GET", f"{API}/balance"):                                  API_MEMBERS,
    ("GET", f"{API}/settle-up"):                                API_MEMBERS,
    ("POST", f"{API}/settle-up"):                               codes(401, 404, 403, 403, 403, 409),  # stale
    ("GET", f"{API}/export"):                                   API_MEMBERS,
    ("GET", f"{API}/chain"):                                    API_MEMBERS,
    ("GET", f"{API}/chain/segment"):                            API_MEMBERS,
    ("GET", f"{API}/chain/unlinked"):                           API_MEMBERS,
    ("GET", f"{API}/periods"):                                  API_MEMBERS,
    ("POST", f"{API}/periods"):                                 codes(401, 404, 403, 422, 403, 422),  # acct closes
    ("GET", f"{API}/periods/<id:period_id>"):                   API_MEMBERS,
    ("POST", f"{API}/periods/<id:period_id>/signoffs"):         codes(401, 404, 422, 403, 403, 403),
    ("GET", f"{API}/periods/<id:period_id>/statements/<id:partner_id>"): API_MEMBERS,
    ("GET", f"{API}/charter"):                                  API_MEMBERS,
    ("POST", f"{API}/charter"):                                 API_COORDINATOR_WRITE,
    ("GET", f"{API}/charter/versions/<id:number>"):             API_MEMBERS,
    ("GET", f"{API}/targets"):                                  API_MEMBERS,
    ("GET", f"{API}/targets/<id:target_id>"):                   API_MEMBERS,
    ("POST", f"{API}/targets/<id:target_id>/measurements"):     codes(401, 404, 422, 403, 403, 422),
    ("GET", f"{API}/indicators"):                               API_MEMBERS,
    ("GET", f"{API}/review-settings"):                          API_MEMBERS,
    ("POST", f"{API}/review-settings"):                         API_COORDINATOR_WRITE,
    ("GET", f"{API}/checkpoints"):                              API_MEMBERS,
    ("POST", f"{API}/checkpoints"):                             API_COORDINATOR_WRITE,
    ("GET", f"{API}{CP}"):                                      API_MEMBERS,
    ("GET", f"{API}{CP}/review-pack"):                          API_MEMBERS,
    ("POST", f"{API}{CP}/open"):                                codes(401, 404, 403, 403, 403, 409),  # already open
    ("POST", f"{API}{CP}/assessments"):                         codes(401, 404, 422, 403, 403, 403),
    ("POST", f"{API}{CP}/votes"):                               codes(401, 404, 403, 403, 422, 403),
    ("POST", f"{API}{CP}/decision"):                            API_COORDINATOR_WRITE,
}

#: What a write is sent (form fields for pages, JSON for the API; a GET gets them as its query string);
#: anything else gets an empty form / ``{}``. ``{partner}`` is Alpha's id. Chosen so that an allowed role
#: is stopped after the authorisation check.
BODIES: dict[tuple[str, str], dict] = {
    ("GET", f"{A}/import/<sha>"): {"name": "case.csv"},
    ("POST", f"{A}/notify"): {"notify_above": "lots"},
    ("POST", f"{A}/entries/<id:entry_id>/reverse"): {"date": "not a date"},
    ("POST", f"{A}/settle-up"): {"expected": "stale"},
    ("POST", f"{A}/import/<sha>/preview"): {"filename": "case.csv"},
    ("POST", f"{A}/import/<sha>/run"): {"filename": "case.csv"},
    ("POST", f"{A}/partners"): {"action": "category", "name": ""},
    ("POST", f"{A}/members"): {"action": "add", "email": ""},
    ("POST", f"{A}{CP}/assessments"): {"partner_id": "{partner}"},
    ("POST", f"{API}/entries/<id:entry_id>/reversal"): {"date": "not a date"},
    ("POST", f"{API}/settle-up"): {"expected": "stale"},
    ("POST", f"{API}/review-settings"): {"hhi_threshold": "2"},
    ("POST", f"{API}/periods/<id:period_id>/signoffs"): {"partner_id": "{partner}"},
    ("POST", f"{API}{CP}/assessments"): {"partner_id": "{partner}"},
}

_CONVERTER = re.compile(r"<(?:[^:>]+:)?([^>]+)>")
pytestmark = pytest.mark.usefixtures("case_day")  # every route answers as on the case's TODAY


# ---- arranging ------------------------------------------------------------------------------------------

def build_world(app: Flask, session: Session, case: Case, tmp_path) -> tuple[dict, dict[str, str]]:
    """Every kind of object a route can name, in the case's alliance; their ids by converter name."""
    app.config["IMPORT_FOLDER"] = str(tmp_path / "imports")
    add_steering(session, case)  # steer_alpha and steer_beta: their votes meet the default quorum
    entry = record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="2000",
                   date="2020-05-04")
    betas = record(session, case, "beta", partner="Beta", kind="revenue", category="production", amount="500.01",
                   date="2020-05-20")
    corrected = record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="7",
                       date="2020-05-05")
    session.commit()
    user, membership = acting(session, case, "alpha")
    entries.reverse_entry(session, user, membership, corrected, {"reason": "typo"}, today=TODAY)
    charter, target, period = charter_with_a_measured_target(session, case)
    checkpoint = opened(session, case)  # due 2020-07-01, opened early by the coordinator
    user, membership = acting(session, case, "alpha")
    checkpoints.assess(session, user, membership, session.get(Checkpoint, checkpoint.id), {
        "satisfaction": 4, "fairness": 3, "commitment": 5, "trust": 4, "challenges": [], "comments": ""})
    session.commit()
    voted(session, case, checkpoint, ("steer_alpha", "renew"), ("steer_beta", "renew"))
    revocable, _ = create_token(session, session.get(User, case.users["coordinator"].id), "to revoke")
    session.commit()
    tokens = make_tokens(session, case)
    version = session.scalar(select(AgreementVersion).where(AgreementVersion.alliance_id == case.alliance.id))
    ids = {
        "alliance_id": case.alliance.id, "entry_id": entry.id, "partner_id": case.pid("Alpha"),
        "category_id": case.cid("production"), "member_id": case.memberships["alpha"].id,
        "version_id": version.id, "number": charter.number, "target_id": target.id,
        "checkpoint_id": checkpoint.id, "period_id": period.id, "token_id": revocable.id,
        "beta_entry_id": betas.id,  # not a converter: for the checks of what is another partner's
    }
    ids["sha"] = stage_import(app, case)
    return ids, tokens


def stage_import(app: Flask, case: Case) -> str:
    """Upload a spreadsheet as the coordinator, so the mapping/preview/run routes have a staged file."""
    data = csv_bytes([["2020-05-06", "Alpha", "cost", "production", "10", "Blades"]])
    client = logged_in(app, "coordinator")
    response = client.post(f"/a/{case.alliance.id}/import", data={"file": (io.BytesIO(data), "case.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    return hashlib.sha256(data).hexdigest()


def logged_in(app: Flask, who: str) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"email": f"{who}@example.org", "password": PASSWORD})
    assert response.status_code == 302, f"{who} could not log in"
    return client


def fill(rule: str, ids: dict) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        assert name in ids, f"{rule}: no id for <{name}>; add one to build_world()"
        return str(ids[name])

    return _CONVERTER.sub(value, rule)


def body_for(key: tuple[str, str], ids: dict) -> dict:
    raw = BODIES.get(key, {})
    return {k: (v.format(partner=ids["partner_id"]) if isinstance(v, str) else v) for k, v in raw.items()}


def request_as(client: FlaskClient, method: str, url: str, body: dict, token: str | None):
    """One request; the API gets a bearer token (or none) and JSON, the pages a form."""
    if url.startswith("/api/"):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        kwargs = {"json": body} if method in ("POST", "PATCH") else {}
        response = client.open(url, method=method, headers=headers, **kwargs)
    else:
        kwargs = {"data": body} if method == "POST" else {"query_string": body}
        response = client.open(url, method=method, buffered=False, **kwargs)
    status = response.status_code
    response.close()  # a live stream (``/events``) ends here instead of streaming on
    return status


def routes(app: Flask) -> list[tuple[str, str]]:
    """Every (method, rule) but the static files; logging out last, so no client needs to log in again."""
    found = {(method, rule.rule) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
             for method in rule.methods - {"HEAD", "OPTIONS"}}
    return sorted(found, key=lambda key: (key[1] == "/logout", key[1], key[0]))


# ---- the walk -------------------------------------------------------------------------------------------

PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/api/v1/openapi.json")}


def test_the_table_itself_keeps_the_rules():
    """A row cannot write down a leak as the expected answer: these hold for every route, new ones too."""
    for (method, rule), row in EXPECTED.items():
        assert set(row) == set(ROLES), f"{method} {rule}: give a status for each of {ROLES}"
        assert 500 not in row.values(), f"{method} {rule}: a 500 is never the expected answer"
        if (method, rule) not in PUBLIC:
            anonymous = 401 if rule.startswith("/api/") else 302
            assert row["anonymous"] == anonymous, f"{method} {rule}: anonymous must get {anonymous}"
        if "<id:alliance_id>" in rule:
            # Another alliance's URLs must look like URLs that do not exist: 404, never 403 or 200.
            assert row["outsider"] == 404, f"{method} {rule}: an outsider must get 404"


def test_every_route_answers_every_role_as_the_table_says(app, session, case, tmp_path):
    ids, tokens = build_world(app, session, case, tmp_path)
    clients = {"anonymous": app.test_client()}
    clients.update({role: logged_in(app, who) for role, who in USERS.items()})
    before = row_counts(session)

    found = routes(app)
    problems = [f"{method} {rule} is not in EXPECTED: add it to EXPECTED with the status for each role"
                for method, rule in found if (method, rule) not in EXPECTED]
    problems += [f"{method} {rule} is in EXPECTED but no such route exists any more: remove it from EXPECTED"
                 for method, rule in sorted(set(EXPECTED) - set(found))]
    for key in found:
        if key not in EXPECTED:
            continue
        method, rule = key
        url = fill(rule, ids)
        body = body_for(key, ids)
        for role in ROLES:
            token = tokens[USERS[role]] if role in USERS else None
            status = request_as(clients[role], method, url, body, token)
            if status != EXPECTED[key][role]:
                problems.append(f"{method} {rule} as {role}: expected {EXPECTED[key][role]}, got {status}")
    assert not problems, "\n".join(problems)

    # Nothing is added but activity: downloading an export or a review pack is logged in the feed.
    after = row_counts(session)
    assert {t: n for t, n in after.items() if t != "activity"} == {t: n for t, n in before.items() if t != "activity"}


# ---- object level: another alliance's ids inside the case's alliance --------------------------------------

OTHER_DAY = date(2021, 6, 30)  # inside the other alliance's term (2021)


def other_alliance(app: Flask, session: Session, case: Case) -> dict[str, int | str]:
    """The outsider's alliance, with one of everything, made through the real services."""
    user = session.get(User, case.users["outsider"].id)
    membership = session.scalar(select(Membership).where(Membership.alliance_id == case.other.id,
                                                         Membership.user_id == user.id))
    zeta = alliances.add_partner(session, user, membership, {"name": "Zeta", "role": "protagonist",
                                                             "type": "supplier"})
    eta = alliances.add_partner(session, user, membership, {"name": "Eta", "role": "protagonist",
                                                            "type": "customer"})
    category = alliances.add_category(session, user, membership, {"name": "foreign tools"})
    version = agreements.create_version(session, user, membership, {
        "effective_from": "2021-01-01", "note": "", "pools": fifty_fifty_pools({"Alpha": zeta, "Beta": eta})})
    entry = entries.record_entry(session, user, membership, {
        "date": "2021-02-01", "partner_id": zeta.id, "kind": "cost", "category_id": category.id,
        "amount": "100", "description": "a foreign cost"})
    save_charter(session, user, membership, {
        "effective_from": "2021-01-01", "cause": "Elsewhere", "objective": "", "term_end": "2021-12-31",
        "commitments": [], "targets": [{"name": "foreign units", "unit": "units", "period": "month", "value": "10"}]},
        OTHER_DAY)
    session.flush()
    target = session.scalar(select(Target).where(Target.alliance_id == case.other.id))
    period = periods.close_period(session, user, membership, {"end_date": "2021-01-31"}, today=OTHER_DAY)
    checkpoint = checkpoints.schedule_checkpoint(session, user, membership, {"due_date": "2021-07-01", "label": ""},
                                                 OTHER_DAY)
    checkpoints.open_checkpoint(session, user, membership, checkpoint, OTHER_DAY)
    token, _ = create_token(session, user, "the outsider's script")
    session.commit()
    data = csv_bytes([["2021-02-02", "Zeta", "cost", "foreign tools", "5", "Other blades"]])
    client = logged_in(app, "outsider")
    staged = client.post(f"/a/{case.other.id}/import", data={"file": (io.BytesIO(data), "other.csv")},
                         content_type="multipart/form-data")
    assert staged.status_code == 302
    return {"alliance_id": case.other.id, "entry_id": entry.id, "partner_id": zeta.id, "category_id": category.id,
            "member_id": membership.id, "version_id": version.id, "target_id": target.id, "period_id": period.id,
            "checkpoint_id": checkpoint.id, "token_id": token.id, "sha": hashlib.sha256(data).hexdigest()}


def foreign_urls(mine: dict, theirs: dict) -> list[tuple[str, str]]:
    """Routes of *my* alliance (``mine``) that name an object of *theirs*: each must be a 404."""
    a, cp, p = f"/a/{mine['alliance_id']}", f"checkpoints/{theirs['checkpoint_id']}", mine["partner_id"]
    api = f"/api/v1/alliances/{mine['alliance_id']}"
    return [
        ("GET", f"{a}/entries/{theirs['entry_id']}"), ("POST", f"{a}/entries/{theirs['entry_id']}/reverse"),
        ("GET", f"{a}/targets/{theirs['target_id']}"),
        ("GET", f"{a}/periods/{theirs['period_id']}/statements/{p}"),
        ("POST", f"{a}/periods/{theirs['period_id']}/statements/{p}"),
        ("GET", f"{a}/periods/{mine['period_id']}/statements/{theirs['partner_id']}"),
        ("POST", f"{a}/periods/{mine['period_id']}/statements/{theirs['partner_id']}"),
        ("GET", f"{a}/{cp}"), ("GET", f"{a}/{cp}/pack"), ("GET", f"{a}/{cp}/pack.xlsx"),
        ("POST", f"{a}/{cp}/open"), ("POST", f"{a}/{cp}/remove"), ("POST", f"{a}/{cp}/assessments"),
        ("POST", f"{a}/{cp}/votes"), ("POST", f"{a}/{cp}/decision"),
        ("GET", f"{a}/import/{theirs['sha']}?name=other.csv"),
        ("POST", f"{a}/import/{theirs['sha']}/preview"), ("POST", f"{a}/import/{theirs['sha']}/run"),
        ("POST", f"/account/tokens/{theirs['token_id']}/revoke"),
        ("GET", f"{api}/entries/{theirs['entry_id']}"), ("POST", f"{api}/entries/{theirs['entry_id']}/reversal"),
        ("GET", f"{api}/partners/{theirs['partner_id']}"), ("GET", f"{api}/categories/{theirs['category_id']}"),
        ("GET", f"{api}/members/{theirs['member_id']}"),
        ("GET", f"{api}/agreement/versions/{theirs['version_id']}"),
        ("GET", f"{api}/targets/{theirs['target_id']}"), ("POST", f"{api}/targets/{theirs['target_id']}/measurements"),
        ("GET", f"{api}/periods/{theirs['period_id']}"), ("POST", f"{api}/periods/{theirs['period_id']}/signoffs"),
        ("GET", f"{api}/periods/{theirs['period_id']}/statements/{p}"),
        ("GET", f"{api}/periods/{mine['period_id']}/statements/{theirs['partner_id']}"),
        ("GET", f"{api}/{cp}"), ("GET", f"{api}/{cp}/review-pack"), ("POST", f"{api}/{cp}/open"),
        ("POST", f"{api}/{cp}/assessments"), ("POST", f"{api}/{cp}/votes"), ("POST", f"{api}/{cp}/decision"),
    ]


def call(client: FlaskClient, method: str, url: str, token: str | None = None, body: dict | None = None):
    if url.startswith("/api/"):
        return client.open(url, method=method, headers={"Authorization": f"Bearer {token}"},
                           json=body if method == "POST" else None)
    return client.open(url, method=method, data=body if method == "POST" else None)


def refused_in_urls(app: Flask, mine: dict, theirs: dict, tokens: dict[str, str]) -> list[str]:
    problems = []
    # Both ways round: the case's coordinator and partner member with the outsider's ids in the case's
    # alliance, and the outsider with the case's ids in their own alliance. Every role that may do the
    # thing at all is among them, so a 404 here is the object check, not the role check.
    for who, alliance, foreign in (("coordinator", mine, theirs), ("alpha", mine, theirs),
                                   ("outsider", theirs, mine)):
        client = logged_in(app, who)
        for method, url in foreign_urls(alliance, foreign):
            body = {"partner_id": foreign["partner_id"], "date": "not a date"} if method == "POST" else None
            status = call(client, method, url, tokens[who], body).status_code
            if status != 404:
                problems.append(f"{who}: {method} {url} answered {status}, not 404")
    return problems


def fields_of(response) -> dict[str, str]:
    return response.get_json()["error"].get("fields", {})


def refused_in_api_bodies(app: Flask, case: Case, mine: dict, theirs: dict, tokens: dict[str, str]) -> list[str]:
    client = app.test_client()
    api = f"/api/v1/alliances/{mine['alliance_id']}"
    entry = {"date": "2020-05-06", "partner_id": mine["partner_id"], "kind": "cost",
             "category_id": mine["category_id"], "amount": "5", "description": "x"}
    pools = fifty_fifty_pools({"Alpha": case.partners["Alpha"], "Beta": case.partners["Beta"]})
    foreign_share = [{**pools[0], "shares": [{"partner_id": theirs["partner_id"], "weight": "1"}]}, pools[1]]
    foreign_category = [{**pools[0], "categories": [theirs["category_id"]]}, pools[1]]
    charter = {"effective_from": "2020-06-01", "cause": "x", "objective": "", "term_end": "2022-03-31",
               "commitments": [], "targets": []}
    cases = [  # (who, path, body, the field that must carry the message)
        ("coordinator", "/entries", {**entry, "partner_id": theirs["partner_id"]}, "partner_id"),
        ("alpha", "/entries", {**entry, "category_id": theirs["category_id"]}, "category_id"),
        ("coordinator", "/entries", {**entry, "kind": "settlement", "category_id": None,
                                     "counterparty_id": theirs["partner_id"]}, "counterparty_id"),
        ("coordinator", "/agreement/versions", {"effective_from": "2020-06-01", "pools": foreign_share},
         "pools-0-shares"),
        ("coordinator", "/agreement/versions", {"effective_from": "2020-06-01", "pools": foreign_category},
         "pools-0-categories"),
        ("coordinator", "/charter", {**charter, "commitments": [
            {"partner_id": theirs["partner_id"], "expects": "x", "brings": "y"}]}, "commitments-0-partner_id"),
        ("coordinator", "/charter", {**charter, "targets": [{"target_id": theirs["target_id"], "value": "1"}]},
         "targets-0-target_id"),
        ("coordinator", f"/targets/{mine['target_id']}/measurements",
         {"partner_id": theirs["partner_id"], "period": "2020-05", "value": "1"}, "partner_id"),
        ("coordinator", "/members", {"email": "newcomer@example.org", "name": "New Comer", "password": PASSWORD,
                                     "role": "partner_member", "partner_id": theirs["partner_id"]}, "partner_id"),
        ("alpha", f"/checkpoints/{mine['checkpoint_id']}/assessments",
         {"partner_id": theirs["partner_id"], "satisfaction": 4, "fairness": 4, "commitment": 4, "trust": 4},
         "partner_id"),
        ("alpha", f"/periods/{mine['period_id']}/signoffs", {"partner_id": theirs["partner_id"], "status": "signed"},
         "partner_id"),
    ]
    problems = []
    for who, path, body, field in cases:
        response = call(client, "POST", api + path, tokens[who], body)
        if response.status_code != 422 or not any(k.startswith(field) for k in fields_of(response)):
            problems.append(f"{who}: POST {path} with {field} of another alliance answered "
                            f"{response.status_code} {response.get_json()}")
    for param in ("partner_id", "category_id"):
        response = call(client, "GET", f"{api}/entries?{param}={theirs[param]}", tokens["alpha"])
        if response.status_code != 400 or param not in fields_of(response):
            problems.append(f"GET entries?{param}= of another alliance answered {response.status_code}")
    return problems


def refused_in_forms(app: Flask, mine: dict, theirs: dict) -> list[str]:
    a = f"/a/{mine['alliance_id']}"
    entry = {"date": "2020-05-06", "partner_id": str(mine["partner_id"]), "kind": "cost",
             "category_id": str(mine["category_id"]), "amount": "5", "description": "x"}
    cases = [  # (who, path, form, the field whose message the page shows)
        ("coordinator", "/entries/new", {**entry, "partner_id": str(theirs["partner_id"])}, "partner_id"),
        ("alpha", "/entries/new", {**entry, "category_id": str(theirs["category_id"])}, "category_id"),
        ("coordinator", "/entries/new", {**entry, "kind": "settlement", "category_id": "",
                                         "counterparty_id": str(theirs["partner_id"])}, "counterparty_id"),
        ("coordinator", "/targets/measurements", {"target_id": str(theirs["target_id"]), "period": "2020-05",
                                                  "value": "1", "partner_id": str(mine["partner_id"])}, "target_id"),
        ("coordinator", "/targets/measurements", {"target_id": str(mine["target_id"]), "period": "2020-05",
                                                  "value": "1", "partner_id": str(theirs["partner_id"])},
         "partner_id"),
        ("coordinator", "/members", {"action": "add", "email": "newcomer@example.org", "name": "New Comer",
                                     "password": PASSWORD, "role": "partner_member",
                                     "partner_id": str(theirs["partner_id"])}, "partner_id"),
        ("coordinator", "/agreement/new", {"effective_from": "2020-06-01", "pools-0-name": "Shared",
                                           "pools-0-side": "costs", "pools-0-kinds": "cost", "pools-0-scope": "some",
                                           "pools-0-categories": str(theirs["category_id"]),
                                           f"pools-0-weight_{mine['partner_id']}": "1"}, "pools-0-categories"),
        ("coordinator", "/charter/edit", {"effective_from": "2020-06-01", "cause": "x", "term_end": "2022-03-31",
                                          "targets-0-target_id": str(theirs["target_id"]), "targets-0-value": "1"},
         "targets-0-target_id"),
        ("alpha", f"/checkpoints/{mine['checkpoint_id']}/assessments",
         {"partner_id": str(theirs["partner_id"]), "satisfaction": "4", "fairness": "4", "commitment": "4",
          "trust": "4"}, None),  # a hidden field: the page has nowhere to show it, the 422 is the refusal
    ]
    problems = []
    clients = {who: logged_in(app, who) for who in ("coordinator", "alpha")}
    for who, path, form, field in cases:
        response = clients[who].post(a + path, data=form)
        page = response.get_data(as_text=True)
        if response.status_code != 422 or (field is not None and error_at(page, field) is None):
            problems.append(f"{who}: POST {path} with {field} of another alliance answered {response.status_code}")
    for member in ("change", "remove"):
        response = clients["coordinator"].post(f"{a}/members", data={"action": member, "role": "accountant",
                                                                      "member_id": str(theirs["member_id"])})
        if response.status_code != 404:
            problems.append(f"coordinator: {member} of another alliance's member answered {response.status_code}")
    for param in ("partner", "category"):
        response = clients["alpha"].get(f"{a}/ledger?{param}={theirs[param + '_id']}")
        if response.status_code != 400 or "Zeta" in response.get_data(as_text=True):
            problems.append(f"ledger?{param}= of another alliance answered {response.status_code}")
    return problems


def refused_for_another_partner(app: Flask, case: Case, mine: dict, tokens: dict[str, str]) -> list[str]:
    """Inside the alliance, Alpha's member acts for Alpha only: Beta's statement, entry, figures, assessment."""
    a, api, beta = f"/a/{mine['alliance_id']}", f"/api/v1/alliances/{mine['alliance_id']}", case.pid("Beta")
    statement = f"periods/{mine['period_id']}/statements/{beta}"
    figure = {"target_id": mine["target_id"], "partner_id": beta, "period": "2020-05", "value": "1"}
    scores = {"partner_id": beta, "satisfaction": 4, "fairness": 4, "commitment": 4, "trust": 4}
    checks = [  # (method, url, body, expected)
        ("GET", f"{a}/{statement}", None, 403), ("POST", f"{a}/{statement}", {"status": "signed"}, 403),
        ("GET", f"{api}/{statement}", None, 403),
        ("POST", f"{api}/periods/{mine['period_id']}/signoffs", {"partner_id": beta, "status": "signed"}, 403),
        ("POST", f"{a}/entries/{mine['beta_entry_id']}/reverse", {}, 403),
        ("POST", f"{api}/entries/{mine['beta_entry_id']}/reversal", {}, 403),
        ("POST", f"{a}/targets/measurements", figure, 403),
        ("POST", f"{api}/targets/{mine['target_id']}/measurements",  # the API names the target in the path only
         {k: v for k, v in figure.items() if k != "target_id"}, 403),
        ("POST", f"{a}/checkpoints/{mine['checkpoint_id']}/assessments", scores, 403),
        ("POST", f"{api}/checkpoints/{mine['checkpoint_id']}/assessments", scores, 403),
        # Recording for another partner is refused at the partner field (the form offers Alpha only).
        ("POST", f"{a}/entries/new", {"date": "2020-05-06", "partner_id": beta, "kind": "cost",
                                      "category_id": mine["category_id"], "amount": "5", "description": "x"}, 422),
        ("POST", f"{api}/entries", {"date": "2020-05-06", "partner_id": beta, "kind": "cost",
                                    "category_id": mine["category_id"], "amount": "5", "description": "x"}, 422),
    ]
    client = logged_in(app, "alpha")
    problems = []
    for method, url, body, expected in checks:
        status = call(client, method, url, tokens["alpha"], body).status_code
        if status != expected:
            problems.append(f"alpha: {method} {url} (Beta's) answered {status}, not {expected}")
    return problems


def test_ids_of_another_alliance_or_partner_are_refused_and_nothing_is_written(app, session, case, tmp_path):
    mine, tokens = build_world(app, session, case, tmp_path)
    theirs = other_alliance(app, session, case)
    before = row_counts(session)
    problems = (refused_in_urls(app, mine, theirs, tokens) + refused_in_api_bodies(app, case, mine, theirs, tokens)
                + refused_in_forms(app, mine, theirs) + refused_for_another_partner(app, case, mine, tokens))
    assert not problems, "\n".join(problems)
    assert row_counts(session) == before
