"""No text a user typed becomes a formula in any file the product writes (issue 16, item 4).

Every string a user can type (the alliance's, partners', users' and categories' names, pool names and
version notes, descriptions, references, sign-off and assessment comments, vote reasons, the rationale,
checkpoint labels, target names and units) is a formula-looking payload here. Each file is downloaded as a
user downloads it (the export page in both formats, the review pack), and every cell of every sheet is
scanned: each formula must be one of the product's own shapes (an allow-list of functions and string
literals), no formula may hold a payload, and every payload must be there as text. In the CSV no field
that a spreadsheet would take for a formula (= + - @ tab CR) may be anything but a number.
"""

from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook
from sqlalchemy import select, update

from ledger.models import Alliance, Checkpoint, Membership, Target
from ledger.services import agreements, alliances, periods
from ledger.services import checkpoints as service
from ledger.services.charter import save_charter
from tests.builders import TODAY, Case, acting, make_user, record
from tests.e2e.test_checkpoint_pages import add_steering, opened

#: Functions and string literals the product's own formulas use (ledger.export.workbook).
FUNCTIONS = {"COUNT", "SUMIFS", "SUM", "IF", "ROUND", "GCD", "ABS", "INT", "SUMPRODUCT", "SIGN"}
LITERALS = {"OK", "CHECK", "costs", "returns", "revenue", "settlement", "cost", "contribution", "service_fee",
            "<>", "<>revenue"}
SHEETS = {"Ledger", "Splits", "Allocation"}
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def payload(tag: str) -> str:
    return f'=HYPERLINK("http://evil.example/{tag}","x")' if tag != "unit" else '=HYPERLINK("http://e.vil/u","x")'


def poisoned_books(session, case: Case) -> dict[str, str]:
    """The case with a payload in every field a user types; returns field -> the text as stored."""
    add_steering(session, case)
    coordinator, coord_m = acting(session, case, "coordinator")
    typed: dict[str, str] = {}
    partner = alliances.add_partner(session, coordinator, coord_m,
                                    {"name": payload("partner"), "role": "secondary", "type": "customer"})
    user = make_user(session, "mallory", payload("user"))
    case.users["mallory"] = user
    case.memberships["mallory"] = alliances.add_member(session, coordinator, coord_m, {
        "email": user.email, "role": "partner_member", "partner_id": partner.id})
    category = alliances.add_category(session, coordinator, coord_m, {"name": payload("category")})
    case.partners["Mallory"], case.categories[category.name] = partner, category
    typed.update(partner=partner.name, user=user.name, category=category.name)
    # The alliance's name: what create_alliance accepts (a name is any text), set on the case's alliance.
    session.execute(update(Alliance).where(Alliance.id == case.alliance.id).values(name=payload("alliance")))
    typed["alliance"] = payload("alliance")
    session.commit()

    shares = [{"partner_id": case.pid(n), "weight": "1"} for n in ("Alpha", "Beta", "Mallory")]
    agreements.create_version(session, coordinator, coord_m, {
        "effective_from": "2020-04-15", "note": payload("note"),
        "pools": [{"name": payload("pool"), "side": "costs", "kinds": ["cost", "contribution", "service_fee"],
                   "categories": "all", "shares": shares},
                  {"name": "Returns", "side": "returns", "kinds": ["revenue"], "categories": "all",
                   "shares": shares}]})
    typed.update(note=payload("note"), pool=payload("pool"))
    record(session, case, "mallory", partner="Mallory", kind="cost", category=category.name, amount="10.01",
           date="2020-04-20", description=payload("description"), reference=payload("reference"))
    record(session, case, "beta", partner="Beta", kind="settlement", counterparty="Mallory", amount="3.00",
           date="2020-04-21", description=payload("settlement"))
    typed.update(description=payload("description"), reference=payload("reference"),
                 settlement=payload("settlement"))
    session.commit()

    accountant, accountant_m = acting(session, case, "accountant")
    period = periods.close_period(session, accountant, accountant_m, {"end_date": "2020-04-30"}, today=TODAY)
    session.commit()
    user, membership = acting(session, case, "mallory")
    periods.sign_off(session, user, membership, period, {"status": "disputed", "comment": payload("comment")})
    typed["comment"] = payload("comment")
    session.commit()

    save_charter(session, coordinator, session.get(Membership, coord_m.id), {
        "effective_from": "2020-04-01", "cause": "Masks", "objective": "Masks", "term_end": "2022-03-31",
        "commitments": [], "targets": [{"name": payload("target"), "unit": payload("unit"), "period": "month",
                                        "value": "10"}]}, TODAY)
    session.commit()
    typed.update(target=payload("target"), unit=payload("unit"))
    assert session.scalar(select(Target.unit).where(Target.alliance_id == case.alliance.id)) == payload("unit")

    row = opened(session, case)
    session.execute(update(Checkpoint).where(Checkpoint.id == row.id).values(label=payload("label")))
    typed["label"] = payload("label")
    user, membership = acting(session, case, "mallory")
    service.assess(session, user, membership, session.get(Checkpoint, row.id), {
        "satisfaction": 4, "fairness": 2, "commitment": 5, "trust": 3, "challenges": ["other"],
        "comments": payload("assessment")})
    typed["assessment"] = payload("assessment")
    for who in ("steer_alpha", "steer_beta"):
        user, membership = acting(session, case, who)
        service.vote(session, user, membership, session.get(Checkpoint, row.id),
                     {"choice": "renew", "reason": payload(f"vote-{who}")})
        typed[f"vote-{who}"] = payload(f"vote-{who}")
    session.commit()
    coordinator, coord_m = acting(session, case, "coordinator")
    service.decide(session, coordinator, coord_m, session.get(Checkpoint, row.id),
                   {"decision": "renew", "rationale": payload("rationale"), "new_term_end": "2023-03-31"}, TODAY)
    typed["rationale"] = payload("rationale")
    session.commit()
    case.extra["checkpoint"] = row.id
    return typed


def product_formula(formula: str) -> bool:
    """One of the shapes the product writes: its functions, its literals, its sheets, nothing typed."""
    functions = set(re.findall(r"([A-Z][A-Z0-9.]*)\(", formula))
    literals = set(re.findall(r'"([^"]*)"', formula))
    sheets = set(re.findall(r"([A-Za-z]+)!", formula))
    return functions <= FUNCTIONS and literals <= LITERALS and sheets <= SHEETS and "evil" not in formula


def scan(data: bytes) -> tuple[list[str], list[str]]:
    """(every formula, every text value) of every sheet of the workbook."""
    formulas, texts = [], []
    for sheet in load_workbook(io.BytesIO(data)):
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    formulas.append(str(cell.value))
                elif isinstance(cell.value, str):
                    texts.append(cell.value)
    return formulas, texts


def test_no_typed_text_is_a_formula_in_any_workbook_or_csv(client, auth, case, session, case_day):
    typed = poisoned_books(session, case)
    auth.login("coordinator")  # the coordinator reads every sign-off comment, so the comment is in the file
    files = {
        "export": client.get(f"/a/{case.alliance.id}/export?period=term&format=xlsx"),
        "pack": client.get(f"/a/{case.alliance.id}/checkpoints/{case.extra['checkpoint']}/pack.xlsx"),
    }
    expected = {
        "export": {"alliance", "partner", "user", "category", "note", "pool", "description", "reference",
                   "settlement", "comment"},
        "pack": {"alliance", "partner", "user", "label", "target", "unit", "assessment", "vote-steer_alpha",
                 "vote-steer_beta", "rationale"},
    }
    for name, response in files.items():
        assert response.status_code == 200, name
        formulas, texts = scan(response.data)
        foreign = [f for f in formulas if not product_formula(f)]
        assert not foreign, (name, foreign)
        for field in expected[name]:
            assert any(typed[field] in text for text in texts), (name, field, "not in the file as text")
    assert scan(files["export"].data)[0], "the export's figures are live formulas"

    response = client.get(f"/a/{case.alliance.id}/export?period=term&format=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    for row in rows:
        for value in row:
            assert not value.startswith(TRIGGERS) or NUMBER.fullmatch(value), value
    fields = {value for row in rows for value in row}
    for field in ("partner", "user", "category", "description", "reference"):
        assert "'" + typed[field] in fields, field


def test_a_sheet_refuses_a_formula_it_was_not_given_as_one():
    """The writer itself: a str is text unless it is a Formula; a formula cell made elsewhere is refused."""
    import pytest
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    from ledger.export.cells import Formula, SafeSheet

    book = Workbook(write_only=True)
    sheet = SafeSheet(book.create_sheet("T"))
    assert sheet.append([payload("a"), sheet.cell(payload("b"), bold=True), Formula("=1+1")]) == 1
    assert sheet.cell(payload("c")).data_type == "s"
    assert sheet.cell(Formula("=SUM(A1:A2)")).data_type == "f"
    with pytest.raises(ValueError, match="not made by this sheet"):
        sheet.append([WriteOnlyCell(sheet.sheet, payload("d"))])
    with pytest.raises(ValueError, match="starts with '='"):
        Formula("SUM(1)")
    assert sheet.next_row == 2
    book.save(io.BytesIO())

