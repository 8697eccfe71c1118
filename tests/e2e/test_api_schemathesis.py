"""Hostile requests from the OpenAPI document itself: no 5xx, and no answer the document does not promise.

Schemathesis reads ``/api/v1/openapi.json`` from the app and, for every
operation, generates requests that fit the document (positive) and requests
that break it (negative: wrong types, missing fields, out-of-range ids ...).
Each one goes through the real app, in-process, against a real database (the
``app`` fixture: SQLite, and PostgreSQL with TEST_DATABASE_URL), with a real
bearer token of a case user. Every answer must be:

- not a server error (bad input is a 4xx with a message, never a 500);
- a status code the operation documents, with the documented content type,
  headers and body schema;
- for a request that breaks the document, a refusal (4xx), not a success.

Where a path names objects, most requests name ones that exist (the case's
alliance, a partner, an entry, a closed period, an open checkpoint, a target
...) so they get past the 404 and reach validation and the services; the rest
use generated ids, in range or not. Both a coordinator (who may do the most)
and a partner member (refused more often) send them, with real bearer tokens.

Bounded and deterministic: a fixed number of examples per operation, derandomized,
no example database (nothing is written under ``.hypothesis``), no deadline (a
first request on a cold engine is slow, which is not a bug).
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.api.blueprint import PREFIX
from ledger.models import AgreementVersion, Checkpoint, User
from ledger.services import checkpoints
from ledger.services.users import create_token
from tests.builders import TODAY, Case, acting, charter_with_a_measured_target, record

#: Requests per operation, by the case user who sends them: enough to find a crash, few enough for `make test`.
EXAMPLES = {"coordinator": 10, "alpha": 4}

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]

SETTINGS = settings(
    derandomize=True,  # the same requests on every run: a failure is reproducible, never flaky
    database=None,  # no example database written into the working tree
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    # Deep request bodies are slow to generate and often filtered: that is the point here, not a test smell.
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


def build_world(session: Session, case: Case) -> dict[str, int]:
    """One object of every kind a path can name, so generated requests can reach past the 404.

    Returns the id to put in each path parameter.
    """
    entry = record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="2000",
                   date="2020-05-04")
    record(session, case, "beta", partner="Beta", kind="revenue", category="production", amount="500.01",
           date="2020-05-20")
    session.commit()
    charter, target, period = charter_with_a_measured_target(session, case)
    user, membership = acting(session, case, "coordinator")
    checkpoint = checkpoints.schedule_checkpoint(session, user, membership, {"due_date": "2020-07-01"}, TODAY)
    session.flush()
    checkpoints.open_checkpoint(session, user, membership, session.get(Checkpoint, checkpoint.id), TODAY)
    session.commit()
    version = session.scalar(select(AgreementVersion).where(AgreementVersion.alliance_id == case.alliance.id))
    return {
        "alliance_id": case.alliance.id, "entry_id": entry.id, "partner_id": case.pid("Alpha"),
        "category_id": case.cid("production"), "member_id": case.memberships["alpha"].id,
        "version_id": version.id, "number": charter.number, "target_id": target.id,
        "checkpoint_id": checkpoint.id, "period_id": period.id,
    }


def fuzz_operation(operation, token: str, ids: dict[str, int], examples: int, statuses: Counter) -> None:
    """``examples`` requests to one operation: fitting and breaking the document, at real and generated ids."""
    # The token is fixed, never generated: a request without a valid one is a 401 (then 429) before any parsing.
    headers = {"Authorization": f"Bearer {token}"}
    known = {p.name: ids[p.name] for p in operation.path_parameters}
    strategies = [operation.as_strategy(generation_mode=GenerationMode.NEGATIVE, headers=headers)]
    if known:
        # Fitting data at generated ids is nearly always a 404: only real ids let it reach the view's own checks.
        strategies += [operation.as_strategy(generation_mode=mode, headers=headers, path_parameters=known)
                       for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    else:
        strategies.append(operation.as_strategy(generation_mode=GenerationMode.POSITIVE, headers=headers))

    @settings(SETTINGS, max_examples=examples)
    @given(st.one_of(strategies))
    def run(generated) -> None:
        response = generated.call_and_validate(headers=headers, checks=CHECKS)
        statuses[response.status_code // 100 * 100] += 1

    run()


@pytest.mark.slow
def test_generated_requests_get_documented_answers(app, session, case):
    """Every operation as the coordinator (who may do the most) and as a partner member (refused more often)."""
    ids = build_world(session, case)
    schema = schemathesis.openapi.from_wsgi(f"{PREFIX}/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40  # the whole document, not a loader that silently found nothing
    failures = []
    statuses: Counter = Counter()
    for who, examples in EXAMPLES.items():
        _, token = create_token(session, session.get(User, case.users[who].id), "schemathesis")
        session.commit()
        for operation in operations:
            try:
                fuzz_operation(operation, token, ids, examples, statuses)
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis reports its findings as a group
                failures.append(f"{operation.label} as {who}: {exc}")
    assert not failures, "\n\n".join(failures)
    # Not a vacuous pass: requests did get through to successes, and bad ones were refused (never a 5xx).
    assert statuses[200] > 50, statuses
    assert statuses[400] > 200, statuses
