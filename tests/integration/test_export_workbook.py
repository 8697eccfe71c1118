"""The workbook reconciles to the cent in a real spreadsheet engine, and text never becomes a formula.

LibreOffice recalculates every formula on load (the profile below sets
OOXMLRecalcMode to "always"; openpyxl writes no cached results, so any
number read back was computed by LibreOffice), converts to .xlsx, and
openpyxl reads the computed values. Every Summary formula result is
compared with :func:`ledger.queries.balance_sheet` for the same period.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy.orm import Session

from ledger.export.cells import xlsx_text
from ledger.export.csv_export import write_csv
from ledger.export.period import ExportPeriod
from ledger.export.recalc import recalculate, soffice, summary_figures
from ledger.export.workbook import SUMMARY_FIGURES, write_workbook
from ledger.models import Entry, Membership, Period, SignOff, User
from ledger.queries import balance_sheet
from ledger.services import agreements, entries
from tests.builders import Case, record

needs_soffice = pytest.mark.skipif(soffice() is None, reason="LibreOffice is not installed (make test installs it)")

RISKY = ["=1+2", "+SUM(1,1)", "-2+3", "@SUM(1)", "=HYPERLINK(\"http://evil\",\"x\")"]

def recalculated(source: Path, workdir: Path) -> Path:
    return recalculate(source, workdir)


def build_books(session: Session, case: Case) -> dict[str, Entry]:
    """Two agreement versions with odd-cent pools, reversals (one across versions), settlements, risky text."""
    coordinator = session.get(User, case.users["coordinator"].id)
    coord_m = session.get(Membership, case.memberships["coordinator"].id)
    made = {
        "v1_cost": record(session, case, "alpha", partner="Alpha", kind="cost", category="production",
                          amount="100.01", date="2020-04-10", description=RISKY[0]),
        "v1_rev": record(session, case, "beta", partner="Beta", kind="revenue", category="sales",
                         amount="77.77", date="2020-04-20", description=RISKY[1], reference=RISKY[3]),
        "v1_fee": record(session, case, "gamma", partner="Gamma", kind="service_fee", category="certification",
                         amount="12.35", date="2020-05-02", description="Certification fee"),
    }
    three = [{"partner_id": case.pid(n), "weight": w} for n, w in
             [("Alpha", "33.3333"), ("Beta", "33.3333"), ("Gamma", "33.3334")]]
    thirds = [{"partner_id": case.pid(n), "weight": "1"} for n in ("Alpha", "Beta", "Gamma")]
    agreements.create_version(session, coordinator, coord_m, {
        "effective_from": "2020-06-01", "note": "-renegotiated: three ways",
        "pools": [{"name": "Costs three ways", "side": "costs", "kinds": ["cost", "contribution", "service_fee"],
                   "categories": "all", "shares": three},
                  {"name": "Returns in thirds", "side": "returns", "kinds": ["revenue"], "categories": "all",
                   "shares": thirds}]})
    session.flush()
    made.update({
        "v2_cost": record(session, case, "beta", partner="Beta", kind="cost", category="raw materials",
                          amount="1000.00", date="2020-06-05", description=RISKY[2]),
        "v2_contrib": record(session, case, "omega", partner="Omega", kind="contribution", category="machinery",
                             amount="0.05", date="2020-06-06", description="Tiny contribution"),
        "v2_rev": record(session, case, "alpha", partner="Alpha", kind="revenue", category="sales",
                         amount="100.00", date="2020-06-07", description="Sale"),
        "v2_rev2": record(session, case, "gamma", partner="Gamma", kind="revenue", category="sales",
                          amount="0.02", date="2020-06-08", description=RISKY[4]),
        "settle": record(session, case, "coordinator", partner="Beta", kind="settlement", counterparty="Alpha",
                         amount="10.11", date="2020-06-09", description="Settling up"),
    })
    alpha_m = session.get(Membership, case.memberships["alpha"].id)
    alpha = session.get(User, case.users["alpha"].id)
    # A reversal dated under version 2 of an entry split under version 1: it keeps version 1's pool.
    made["reversal"] = entries.reverse_entry(session, alpha, alpha_m, made["v1_cost"],
                                             {"date": "2020-06-10", "reason": "wrong amount"}, date(2020, 6, 30))
    made["v2_rev_rev"] = entries.reverse_entry(session, alpha, alpha_m, made["v2_rev"],
                                               {"date": "2020-06-11"}, date(2020, 6, 30))
    session.flush()
    closed = Period(alliance_id=case.alliance.id, start_date=date(2020, 4, 1), end_date=date(2020, 4, 30),
                    closed_by_id=coordinator.id)
    session.add(closed)
    session.flush()
    session.add_all([
        SignOff(period_id=closed.id, partner_id=case.pid("Alpha"), status="signed", user_id=alpha.id),
        SignOff(period_id=closed.id, partner_id=case.pid("Beta"), status="disputed", comment="=missing invoice",
                user_id=case.users["beta"].id),
    ])
    session.commit()
    return made


def summary_values(path: Path) -> dict[str, dict[str, int]]:
    """The computed Summary; the major-unit figure must also be the minor-unit one divided by 100, to the cent."""
    book = load_workbook(path, data_only=True)
    rows = list(book["Summary"].iter_rows(values_only=True))
    names = next(row for row in rows if row and row[0] == "Partner id")
    for row in rows[rows.index(names) + 1:]:
        if not row or row[1] is None:
            break
        for figure in SUMMARY_FIGURES:
            assert round(row[names.index(figure)] * 100) == row[names.index(f"{figure} (minor units)")]
    return summary_figures(path)


def poison_results(source: Path, target: Path) -> None:
    """A copy of the workbook whose every stored formula result is 999999."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.startswith("xl/worksheets/"):
                data = re.sub(rb"</f><v>[^<]*</v>", b"</f><v>999999</v>", data)
            zout.writestr(info, data)


def expected(session: Session, case: Case, period: ExportPeriod) -> dict[str, dict[str, int]]:
    sheet = balance_sheet(session, case.alliance, period.start, period.end)
    out = {}
    for partner in sheet.partners:
        row = sheet.row(partner.id)
        out[partner.name] = dict(zip(SUMMARY_FIGURES, (row.borne, row.cost_share, row.received, row.return_share,
                                                       row.net), strict=True))
    out["Total"] = {f: sum(v[f] for v in out.values()) for f in SUMMARY_FIGURES}
    return out


@needs_soffice
def test_every_summary_figure_equals_the_apps_balance_after_libreoffice_recalculates(session, case, tmp_path):
    build_books(session, case)
    periods = {"term": ExportPeriod(case.alliance.start_date, case.alliance.term_end),
               "june": ExportPeriod(date(2020, 6, 1), date(2020, 6, 30))}
    for name, period in periods.items():
        (tmp_path / name).mkdir()
        source = tmp_path / name / f"{name}.xlsx"
        write_workbook(session, case.alliance, period, source, datetime(2020, 7, 1, 9, 30, tzinfo=UTC))
        want = expected(session, case, period)
        assert summary_figures(source) == want, "the stored (cached) results are the app's figures"
        poisoned = tmp_path / name / "poisoned" / f"{name}.xlsx"
        poison_results(source, poisoned)
        assert summary_figures(poisoned)["Total"]["Net"] == 999999
        # Only a real recalculation can turn the poisoned stored results back into the right figures.
        computed = summary_values(recalculated(poisoned, tmp_path / name))
        assert computed == want, name
        assert computed["Total"]["Net"] == 0
        if name == "june":
            # The rounding really is exercised: 1000.00 three ways by 33.3333/33.3333/33.3334 and 100.01 - 100.01
            # reversal; the 0.05 contribution and 0.02 revenue leave remainder cents to distribute.
            assert want["Gamma"]["Cost share"] != want["Alpha"]["Cost share"]


@needs_soffice
def test_risky_text_stays_literal_text_after_libreoffice(session, case, tmp_path):
    build_books(session, case)
    source = tmp_path / "books.xlsx"
    from ledger.statements import every_comment

    write_workbook(session, case.alliance, ExportPeriod(case.alliance.start_date, case.alliance.term_end), source,
                   may_read_comments=every_comment)  # a bookkeeper's copy: Beta's comment is in it
    # And text written by the cell helper directly: tab and CR cannot reach the database, but must be safe too.
    extra = tmp_path / "extra.xlsx"
    book = Workbook(write_only=True)
    sheet = book.create_sheet("T")
    for text in [*RISKY, "\tTAB", "\rCR"]:
        sheet.append([xlsx_text(sheet, text)])
    book.save(extra)

    for path in (recalculated(source, tmp_path), recalculated(extra, tmp_path)):
        for formulas in (False, True):  # the stored cell is text, and so is its (recalculated) value
            book = load_workbook(path, data_only=not formulas)
            texts = {c.value for ws in book for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
            kinds = {c.data_type for ws in book for row in ws.iter_rows() for c in row
                     if isinstance(c.value, str) and c.value in RISKY}
            if path.name == "books.xlsx":
                assert set(RISKY) <= texts, set(RISKY) - texts
                assert "=missing invoice" in " ".join(texts)
                assert kinds == {"s"}
            else:
                assert {*RISKY, "\tTAB"} <= texts
                assert any(t.endswith("CR") for t in texts)


def test_the_workbook_has_its_sheets_table_frozen_header_and_real_dates(session, case, tmp_path):
    made = build_books(session, case)
    source = tmp_path / "books.xlsx"
    write_workbook(session, case.alliance, ExportPeriod(date(2020, 4, 1), date(2020, 6, 30)), source)
    book = load_workbook(source)
    assert book.sheetnames == ["Summary", "Ledger", "Splits", "Allocation", "Settlements", "Activity"]
    ledger = book["Ledger"]
    assert ledger.freeze_panes == "A2"
    table = ledger.tables["LedgerEntries"]
    assert table.ref == f"A1:R{len(made) + 1}"
    rows = list(ledger.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(made)
    assert {r[0] for r in rows} == {e.id for e in made.values()}
    first = ledger["B2"]
    assert isinstance(first.value, datetime | date)
    assert first.number_format == "yyyy-mm-dd"
    amount = ledger["I2"]
    assert amount.value == 100.01
    assert "EUR" in amount.number_format
    reversal = next(r for r in rows if r[0] == made["reversal"].id)
    assert reversal[9] == -10001
    assert reversal[10] == 1
    assert reversal[13] == made["v1_cost"].id
    splits = list(book["Splits"].iter_rows(min_row=2, values_only=True))
    assert {r[0] for r in splits} == {1, 2}
    weights = [row[9] for row in book["Splits"].iter_rows(min_row=2)]
    # Numbers, in a format that shows a whole weight as "1" (Excel shows "0.####" as "1.") and keeps 33.3333.
    assert sorted({c.value for c in weights}) == [1, 33.3333, 33.3334]
    assert {c.number_format for c in weights} == {"General"}
    settlements = list(book["Settlements"].iter_rows(min_row=2, values_only=True))
    assert [(r[2], r[3], r[5]) for r in settlements] == [("Beta", "Alpha", 1011)]
    activity = list(book["Activity"].iter_rows(min_row=2, values_only=True))
    assert activity
    assert all(isinstance(r[1], datetime) for r in activity)
    summary = [c for row in book["Summary"].iter_rows(values_only=True) for c in row if c is not None]
    assert "signed 2020" in " ".join(str(c) for c in summary) or any(
        isinstance(c, str) and c.startswith("signed") for c in summary)
    assert any(isinstance(c, str) and c.startswith("disputed") for c in summary)
    assert "not signed yet" in summary


def test_a_period_holds_only_its_entries(session, case, tmp_path):
    made = build_books(session, case)
    source = tmp_path / "may.xlsx"
    write_workbook(session, case.alliance, ExportPeriod(date(2020, 5, 1), date(2020, 5, 31)), source)
    ids = [r[0] for r in load_workbook(source)["Ledger"].iter_rows(min_row=2, values_only=True)]
    assert ids == [made["v1_fee"].id]
    splits = list(load_workbook(source)["Splits"].iter_rows(min_row=2, values_only=True))
    assert {r[0] for r in splits} == {1}, "version 2 is not in force in May and no May entry uses it"


def test_csv_has_the_ledger_columns_and_escapes_risky_text(session, case):
    made = build_books(session, case)
    out = io.StringIO()
    write_csv(session, case.alliance, ExportPeriod(case.alliance.start_date, case.alliance.term_end), out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0][:3] == ["Entry id", "Date", "Kind"]
    assert len(rows) == len(made) + 1
    texts = {cell for row in rows[1:] for cell in row}
    for risky in RISKY:
        assert "'" + risky in texts
        assert risky not in texts
    reversal = next(r for r in rows if r[0] == str(made["reversal"].id))
    assert reversal[8] == "-100.01", "numbers are not text: no quote"
    assert reversal[9] == "-10001"


def test_markup_and_unicode_survive_the_streamed_sheets(session, case, tmp_path):
    text = 'Fish & chips <b>"bold"</b> \u2013 caf\u00e9 \U0001f637\nsecond line'
    entry = record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="1.00",
                   date="2020-05-01", description=text, reference="  =trim  ")
    session.commit()
    source = tmp_path / "books.xlsx"
    write_workbook(session, case.alliance, ExportPeriod(date(2020, 5, 1), date(2020, 5, 1)), source)
    book = load_workbook(source)
    row = next(book["Ledger"].iter_rows(min_row=2, values_only=True))
    assert row[0] == entry.id
    assert row[14] == text
    assert row[15] == entry.reference
    activity = [r[5] for r in book["Activity"].iter_rows(min_row=2, values_only=True)]
    assert entry.id in activity


CONTROL_LABELS = ("Nets add up to zero", "Cost shares = pooled borne amounts",
                  "Borne + received = ledger total + settlements")


def control_checks(path: Path) -> dict[str, tuple[object, object]]:
    """Label -> (difference, verdict) of each control check on the Summary, as computed."""
    rows = load_workbook(path, data_only=True)["Summary"].iter_rows(values_only=True)
    return {row[0]: (row[1], row[2]) for row in rows if row and row[0] in CONTROL_LABELS}


def broken(source: Path, target: Path, sheet: str, cell: str, change) -> Path:
    """A copy of the workbook with one cell of ``sheet`` changed (formulas kept), as a careless edit would."""
    book = load_workbook(source)
    book[sheet][cell].value = change(book[sheet][cell].value)
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return target


@needs_soffice
def test_each_control_check_tests_its_own_difference_and_catches_the_sheet_it_guards(session, case, tmp_path):
    build_books(session, case)
    source = tmp_path / "books.xlsx"
    write_workbook(session, case.alliance, ExportPeriod(case.alliance.start_date, case.alliance.term_end), source)
    allocation = load_workbook(source)["Allocation"]
    share = next(c.column_letter for c in allocation[1] if c.value == "Share (minor units)")
    assert allocation["D2"].value == "=Splits!G2"
    assert load_workbook(source)["Splits"]["G2"].value == "costs", "the first share is a cost share"
    summary = load_workbook(source)["Summary"]
    first = next(r for r in range(1, summary.max_row + 1) if summary[f"A{r}"].value == "Partner id") + 1
    variants = {
        "intact": (source, set()),
        # One partner's net a unit off on the Summary itself: only the nets stop adding up.
        "summary": (broken(source, tmp_path / "summary" / "books.xlsx", "Summary", f"G{first}",
                           lambda formula: f"{formula}+1"), {"Nets add up to zero"}),
        # A Ledger row whose partner is no partner of the Summary: nothing bears it (issue 16: was "OK").
        "ledger": (broken(source, tmp_path / "ledger" / "books.xlsx", "Ledger", "E2", lambda _: 999999),
                   {"Nets add up to zero", "Borne + received = ledger total + settlements"}),
        # One cost share a unit too big: the shares no longer add up to the pooled amounts.
        "allocation": (broken(source, tmp_path / "allocation" / "books.xlsx", "Allocation", f"{share}2",
                              lambda formula: f"{formula}+1"),
                       {"Nets add up to zero", "Cost shares = pooled borne amounts"}),
    }
    computed = {}
    for name, (path, failing) in variants.items():
        checks = computed[name] = control_checks(recalculated(path, tmp_path / name))
        assert set(checks) == set(CONTROL_LABELS), name
        for label, (difference, verdict) in checks.items():
            assert isinstance(difference, int | float), (name, label, difference)
            # The verdict is about the difference on its own row, nothing else.
            assert verdict == ("OK" if difference == 0 else "CHECK"), (name, label, difference, verdict)
        assert {label for label, (_, verdict) in checks.items() if verdict == "CHECK"} == failing, name
    assert computed["ledger"][CONTROL_LABELS[2]][0] == -10001, "Alpha's 100.01 cost, the first entry, is nobody's"
