"""Round trip: export the ledger (CSV and XLSX), import it into an empty alliance with the same partners,
categories and agreement, and every balance comes out the same to the cent - reversals included."""

from __future__ import annotations

import hashlib
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from ledger.export.csv_export import write_csv
from ledger.export.period import ExportPeriod
from ledger.export.workbook import write_workbook
from ledger.imports import mapping
from ledger.imports.reading import read_upload
from ledger.models import Entry, Membership, User
from ledger.queries import balance_sheet
from ledger.services import agreements, alliances, entries
from tests.builders import fifty_fifty_pools, record

TERM = {"currency": "EUR", "start_date": "2020-04-01", "term_end": "2022-03-31"}


@pytest.fixture(autouse=True)
def staging_folder(app, tmp_path):
    app.config["IMPORT_FOLDER"] = str(tmp_path / "imports")


def sixty_forty(partners) -> list[dict]:
    pools = fifty_fifty_pools(partners)
    for pool in pools:
        pool["shares"][0]["weight"] = "3"
        pool["shares"][1]["weight"] = "2"
    return pools


def populate(session, case) -> None:
    """A year of the case: costs, fees, revenues, settlements, a renegotiation, and reversals of each kind."""
    coordinator = session.get(User, case.users["coordinator"].id)
    coord_m = session.get(Membership, case.memberships["coordinator"].id)
    agreements.create_version(session, coordinator, coord_m, {
        "effective_from": "2020-10-01", "note": "Renegotiated 60/40", "pools": sixty_forty(case.partners)})
    made = [
        record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="1000.01",
               description="Cutting"),
        record(session, case, "beta", partner="Beta", kind="cost", category="machinery", amount="33333.33",
               description="=HYPERLINK(\"http://x\")"),
        record(session, case, "gamma", partner="Gamma", kind="service_fee", category="raw materials",
               amount="777.77", description="-fabric rolls", date="2020-06-15"),
        record(session, case, "beta", partner="Beta", kind="revenue", category="sales", amount="10000.03",
               description="Masks sold", date="2020-07-01"),
        record(session, case, "alpha", partner="Alpha", kind="contribution", category="certification",
               amount="0.05", description="Stamp", date="2020-11-02"),
        record(session, case, "omega", partner="Omega", kind="revenue", category="distribution",
               amount="2500.50", description="Distribution", date="2020-12-01"),
        record(session, case, "alpha", partner="Alpha", kind="settlement", counterparty="Beta",
               amount="1234.56", description="Transfer", date="2021-01-10"),
    ]
    entries.reverse_entry(session, coordinator, coord_m, made[0], {"date": "2020-05-02", "reason": "Typo"},
                          today=date(2020, 6, 30))
    entries.reverse_entry(session, coordinator, coord_m, made[3], {"date": "2020-12-20"}, today=date(2020, 6, 30))
    entries.reverse_entry(session, coordinator, coord_m, made[6], {"date": "2021-01-11"}, today=date(2020, 6, 30))
    record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="1000.10",
           description="Cutting (corrected)", date="2020-05-02")
    session.commit()


def empty_twin(session, case) -> int:
    """A new alliance with the same partners, categories (the defaults) and agreement versions."""
    coordinator = session.get(User, case.users["coordinator"].id)
    twin = alliances.create_alliance(session, coordinator, {"name": "Twin", "cause": "", **TERM})
    m = session.scalars(select(Membership).where(Membership.alliance_id == twin.id)).one()
    partners = {}
    for name, role in [("Alpha", "protagonist"), ("Beta", "protagonist"), ("Gamma", "supplier"),
                       ("Omega", "secondary")]:
        partners[name] = alliances.add_partner(session, coordinator, m, {"name": name, "role": role,
                                                                         "type": "supplier"})
    agreements.create_version(session, coordinator, m, {"effective_from": "2020-04-01", "note": "50/50",
                                                        "pools": fifty_fifty_pools(partners)})
    agreements.create_version(session, coordinator, m, {"effective_from": "2020-10-01", "note": "60/40",
                                                        "pools": sixty_forty(partners)})
    session.commit()
    return twin.id


def by_name(sheet) -> dict[str, tuple[int, int, int, int, int]]:
    return {sheet.partner(r.partner_id).name: (r.borne, r.cost_share, r.received, r.return_share, r.net)
            for r in sheet.rows}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_reproduces_every_balance(client, auth, case, session, fmt):
    populate(session, case)
    source = session.get(type(case.alliance), case.alliance.id)
    period = ExportPeriod(source.start_date, source.term_end)
    if fmt == "csv":
        out = io.StringIO(newline="")
        write_csv(session, source, period, out)
        data = out.getvalue().encode("utf-8")
    else:
        out = io.BytesIO()
        write_workbook(session, source, period, out)
        data = out.getvalue()
    expected = by_name(balance_sheet(session, source))
    twin_id = empty_twin(session, case)

    sheet = read_upload(f"ledger.{fmt}", data)
    guessed = mapping.guess(sheet.header)
    assert guessed["entry_id"] == "Entry id"
    assert guessed["reverses"] == "Reverses entry"
    assert guessed["amount"] == "Amount"
    assert guessed["partner"] == "Partner"

    auth.login("coordinator")
    name = f"ledger.{fmt}"
    response = client.post(f"/a/{twin_id}/import", data={"file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    sha = hashlib.sha256(data).hexdigest()
    fields = {"filename": name, **{f"map_{k}": v for k, v in guessed.items()}}
    preview = client.post(f"/a/{twin_id}/import/{sha}/preview", data=fields)
    assert "All 11 rows are valid" in preview.get_data(as_text=True), preview.get_data(as_text=True)
    done = client.post(f"/a/{twin_id}/import/{sha}/run", data=fields)
    assert done.status_code == 302

    session.rollback()
    twin = session.get(type(case.alliance), twin_id)
    assert by_name(balance_sheet(session, twin)) == expected
    assert session.scalar(select(func.count()).where(Entry.alliance_id == twin_id,
                                                     Entry.reverses_id.is_not(None))) == 3
    descriptions = set(session.scalars(select(Entry.description).where(Entry.alliance_id == twin_id)))
    assert "=HYPERLINK(\"http://x\")" in descriptions
    assert "-fabric rolls" in descriptions
    assert any(d.startswith("Reversal of #") and d.endswith(": Typo") for d in descriptions)


def test_a_reversal_row_without_its_original_is_reported(client, auth, case, session):
    populate(session, case)
    source = session.get(type(case.alliance), case.alliance.id)
    out = io.StringIO(newline="")
    write_csv(session, source, ExportPeriod(date(2020, 5, 2), date(2020, 5, 2)), out)  # the reversal, not its original
    data = out.getvalue().encode("utf-8")
    twin_id = empty_twin(session, case)
    auth.login("coordinator")
    client.post(f"/a/{twin_id}/import", data={"file": (io.BytesIO(data), "part.csv")},
                content_type="multipart/form-data")
    sheet = read_upload("part.csv", data)
    fields = {"filename": "part.csv", **{f"map_{k}": v for k, v in mapping.guess(sheet.header).items()}}
    sha = hashlib.sha256(data).hexdigest()
    body = client.post(f"/a/{twin_id}/import/{sha}/preview", data=fields).get_data(as_text=True)
    assert "which is not an importable row of this file" in body
