"""Import through the pages: upload -> map columns -> preview -> import, and every way it must refuse."""

from __future__ import annotations

import hashlib
import html
import io
import re
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from ledger.models import Activity, Entry, ImportBatch, ImportMapping, Period
from ledger.queries import balance_sheet
from tests.import_files import (
    claimed_dimension_bomb,
    csv_bytes,
    empty_cells_bomb,
    shared_strings_bomb,
    xlsx_bytes,
)

MAPPING = {"date": "Date", "partner": "Partner", "kind": "Kind", "category": "Category", "amount": "Amount",
           "description": "Description"}
ROWS = [
    ["2020-05-04", "Alpha", "cost", "production", "1.234,56", "Blades"],
    ["2020-05-05", "Beta", "revenue", "sales", "2000", "First masks sold"],
    ["2020-05-06", "Gamma", "service_fee", "raw materials", "300.10", "Fabric rolls"],
]


@pytest.fixture(autouse=True)
def staging_folder(app, tmp_path):
    """Keep staged uploads out of the checkout's instance folder."""
    app.config["IMPORT_FOLDER"] = str(tmp_path / "imports")


def upload(client, alliance_id: int, name: str, data: bytes):
    return client.post(f"/a/{alliance_id}/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def form(name: str, mapping: dict[str, str] = MAPPING) -> dict:
    return {"filename": name, **{f"map_{k}": v for k, v in mapping.items()}}


def step(client, alliance_id: int, name: str, data: bytes, action: str, mapping: dict[str, str] = MAPPING):
    sha = hashlib.sha256(data).hexdigest()
    return client.post(f"/a/{alliance_id}/import/{sha}/{action}", data=form(name, mapping))


def full_import(client, alliance_id: int, name: str, data: bytes, mapping: dict[str, str] = MAPPING):
    response = upload(client, alliance_id, name, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert client.get(response.headers["Location"]).status_code == 200
    preview = step(client, alliance_id, name, data, "preview", mapping)
    assert preview.status_code == 200
    return preview, step(client, alliance_id, name, data, "run", mapping)


def count(session, model=Entry) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(model))


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_happy_path(client, auth, case, session, fmt):
    auth.login("coordinator")
    aid = case.alliance.id
    if fmt == "csv":
        data = csv_bytes(ROWS)
    else:
        data = xlsx_bytes([[date(2020, 5, 4), "Alpha", "cost", "production", 1234.56, "Blades"],
                           [date(2020, 5, 5), "Beta", "revenue", "sales", 2000, "First masks sold"],
                           [date(2020, 5, 6), "Gamma", "service fee", "raw materials", 300.1, "Fabric rolls"]])
    name = f"sheet.{fmt}"
    mapping_page = client.get(upload(client, aid, name, data).headers["Location"])
    page = text(mapping_page)
    assert re.search(r'<option value="Amount" selected>', page)  # guessed from the header
    preview = step(client, aid, name, data, "preview")
    body = text(preview)
    assert "Preview: nothing is saved yet" in body
    assert "All 3 rows are valid" in body
    assert "EUR 1,234.56" in body
    assert "Fabric rolls" in body
    assert count(session) == 0  # the dry run kept nothing
    activity_before = count(session, Activity)
    done = step(client, aid, name, data, "run")
    assert done.status_code == 302
    assert "Imported 3 entries" in text(client.get(done.headers["Location"]))
    session.rollback()
    entries = session.scalars(select(Entry).order_by(Entry.id)).all()
    assert [(e.partner.name, e.kind.value, e.amount) for e in entries] == [
        ("Alpha", "cost", 123456), ("Beta", "revenue", 200000), ("Gamma", "service_fee", 30010)]
    batch = session.scalars(select(ImportBatch)).one()
    assert {e.import_batch_id for e in entries} == {batch.id}
    assert batch.row_count == 3
    # One event for the whole import (not one per entry: 100,000 of them would flood every open page).
    assert count(session, Activity) == activity_before + 1
    event = session.scalars(select(Activity).order_by(Activity.seq.desc())).first()
    assert (event.action, event.summary, event.entry_id) == (
        "entries.imported", "Carla Coordinator imported 3 entries from sheet." + fmt, None)
    sheet = balance_sheet(session, case.alliance)
    assert sheet is not None


def test_sign_column_instead_of_kind(client, auth, case, session):
    auth.login("alpha")
    header = ["When", "Partner", "Category", "Amount", "What"]
    data = csv_bytes([["2020-05-04", "Alpha", "production", "-10.00", "Cost"],
                      ["2020-05-05", "Alpha", "sales", "25", "Revenue"]], header=header)
    mapping = {"date": "When", "partner": "Partner", "category": "Category", "amount": "Amount",
               "description": "What"}
    preview, done = full_import(client, case.alliance.id, "signed.csv", data, mapping)
    assert "negative amount is a cost" in text(preview)
    assert done.status_code == 302
    session.rollback()
    assert sorted((e.kind.value, e.amount) for e in session.scalars(select(Entry))) == [("cost", 1000),
                                                                                       ("revenue", 2500)]


def test_one_bad_row_means_nothing_is_imported(client, auth, case, session):
    auth.login("coordinator")
    bad = [*ROWS, ["2020-05-07", "Nobody", "cost", "production", "0", ""],
           ["31/12/2020", "Alpha", "gift", "production", "12.345", "x"]]
    data = csv_bytes(bad)
    preview, done = full_import(client, case.alliance.id, "bad.csv", data)
    body = text(preview)
    assert "2 rows have errors" in body
    assert "Row 5: Partner (column \u201cPartner\u201d): No partner named \u201cNobody\u201d" in body
    assert "Row 5: Amount (column \u201cAmount\u201d): The amount cannot be zero." in body
    assert "Row 5: Description (column \u201cDescription\u201d): Enter the description." in body
    assert "Row 6: Date (column \u201cDate\u201d):" in body
    assert "not a date" in body
    assert "Row 6: Kind" in body
    assert "Row 6: Amount" in body
    assert "Import 3 entries" not in body  # no import button while rows have errors
    assert done.status_code == 422
    assert "Nothing was imported" in text(done)
    assert count(session) == 0
    assert count(session, ImportBatch) == 0


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_entry_number_that_is_not_one_is_a_message_at_its_cell(client, auth, case, session, fmt):
    """"\u00b2".isdigit() is true and int("\u00b2") raises: the preview was a 500."""
    auth.login("coordinator")
    header = ["Date", "Partner", "Kind", "Category", "Amount", "Description", "Id", "Reverses"]
    rows = [["2020-05-04", "Alpha", "cost", "production", "10", "Blades", "\u00b2", None],
            ["2020-05-05", "Alpha", "cost", "production", "-10", "Undo", "\u2460", "\u00b3"]]
    data = csv_bytes(rows, header=header) if fmt == "csv" else xlsx_bytes(rows, header=header)
    name = f"ids.{fmt}"
    assert upload(client, case.alliance.id, name, data).status_code == 302
    mapping = {**MAPPING, "entry_id": "Id", "reverses": "Reverses"}
    preview = step(client, case.alliance.id, name, data, "preview", mapping)
    assert preview.status_code == 200
    body = text(preview)
    assert "Row 2: Entry id (for reversals) (column \u201cId\u201d): \u201c\u00b2\u201d is not an entry number." in body
    assert "Row 3: Entry id (for reversals) (column \u201cId\u201d): \u201c\u2460\u201d is not an entry number." in body
    assert "(column \u201cReverses\u201d): \u201c\u00b3\u201d is not an entry number." in body
    assert count(session) == 0


def test_dates_in_a_closed_period_are_row_errors(client, auth, case, session):
    session.add(Period(alliance_id=case.alliance.id, start_date=date(2020, 4, 1), end_date=date(2020, 5, 4),
                       closed_by_id=case.users["coordinator"].id))
    session.commit()
    auth.login("coordinator")
    preview, done = full_import(client, case.alliance.id, "closed.csv", csv_bytes(ROWS))
    assert "Row 2: Date" in text(preview)
    assert "closed period" in text(preview)
    assert done.status_code == 422
    assert count(session) == 0


def test_same_file_twice_creates_nothing_new(client, auth, case, session):
    auth.login("coordinator")
    data = csv_bytes(ROWS)
    _, done = full_import(client, case.alliance.id, "once.csv", data)
    assert done.status_code == 302
    assert count(session) == 3
    again = upload(client, case.alliance.id, "renamed.csv", data)
    assert again.status_code == 200
    assert "already imported" in text(again)
    assert "Nothing new was created" in text(again)
    for action in ("preview", "run"):  # a stale mapping or preview page submitted again
        stale = step(client, case.alliance.id, "once.csv", data, action)
        assert stale.status_code == 409
        assert "already imported" in text(stale)
    assert count(session) == 3


def test_mapping_is_remembered_for_the_alliance(client, auth, case, session):
    auth.login("coordinator")
    header = ["Giorno", "Socio", "Tipo", "Cat", "Euro", "Cosa"]
    data = csv_bytes([["2020-05-04", "Alpha", "cost", "production", "5", "x"]], header=header)
    mapping = dict(zip(["date", "partner", "kind", "category", "amount", "description"], header, strict=True))
    upload(client, case.alliance.id, "it.csv", data)
    assert step(client, case.alliance.id, "it.csv", data, "preview", mapping).status_code == 200
    session.rollback()
    assert session.get(ImportMapping, case.alliance.id) is not None
    later = csv_bytes([["2020-05-05", "Beta", "cost", "production", "6", "y"]], header=header)
    page = text(client.get(upload(client, case.alliance.id, "it2.csv", later).headers["Location"]))
    assert '<option value="Giorno" selected>' in page
    assert '<option value="Cosa" selected>' in page


def test_mapping_errors_are_shown_at_the_fields(client, auth, case):
    auth.login("coordinator")
    data = csv_bytes(ROWS)
    upload(client, case.alliance.id, "m.csv", data)
    response = step(client, case.alliance.id, "m.csv", data, "preview", {**MAPPING, "amount": "", "date": "Kind"})
    body = text(response)
    assert response.status_code == 422
    assert 'id="map_amount-error">Choose the column that holds the amount.' in body
    assert "already mapped" in body


def test_partner_member_imports_only_their_own_rows(client, auth, case, session):
    auth.login("alpha")
    preview, done = full_import(client, case.alliance.id, "mixed.csv", csv_bytes(ROWS))
    body = text(preview)
    assert "Row 3: Partner (column \u201cPartner\u201d): You can record entries only for Alpha." in body
    assert "Row 2:" not in body
    assert done.status_code == 422
    assert count(session) == 0
    _, ok = full_import(client, case.alliance.id, "own.csv", csv_bytes(ROWS[:1]))
    assert ok.status_code == 302
    assert count(session) == 1


@pytest.mark.parametrize("who", ["accountant", "steering"])
def test_readers_may_not_import(client, auth, case, who):
    auth.login(who)
    aid = case.alliance.id
    assert client.get(f"/a/{aid}/import").status_code == 403
    assert upload(client, aid, "a.csv", csv_bytes(ROWS)).status_code == 403
    assert step(client, aid, "a.csv", csv_bytes(ROWS), "run").status_code == 403
    assert "/import" not in client.get(f"/a/{aid}/ledger").get_data(as_text=True).split("</nav>")[0].split(
        "alliance-nav")[-1]


def test_outsiders_get_404(client, auth, case):
    auth.login("outsider")
    aid = case.alliance.id
    assert client.get(f"/a/{aid}/import").status_code == 404
    assert upload(client, aid, "a.csv", csv_bytes(ROWS)).status_code == 404
    assert step(client, aid, "a.csv", csv_bytes(ROWS), "preview").status_code == 404


def test_the_nav_links_to_import_for_recorders(client, auth, case):
    auth.login("beta")
    assert f'href="/a/{case.alliance.id}/import"' in client.get(f"/a/{case.alliance.id}/import").get_data(
        as_text=True)


@pytest.mark.parametrize(("name", "data", "words"), [
    ("a.csv", b"", "The file is empty."),
    ("notes.pdf", b"%PDF-1.4 ...", "Upload an Excel workbook (.xlsx) or a CSV file (.csv)."),
    ("a.xlsx", b"not a zip at all", "not an Excel workbook"),
    ("a.csv", csv_bytes([]), "header row but no entries"),
    ("a.csv", csv_bytes(ROWS, header=["Date", "Amount", "Amount"]), "twice"),
    ("a.xlsx", xlsx_bytes([ROWS[0]], sheet=lambda ws: ws.__setitem__("E2", "=2*3")), "formula"),
    ("a.xlsx", xlsx_bytes(ROWS, sheet=lambda ws: ws.merge_cells("A2:A3")), "merged cells"),
])
def test_garbage_uploads_get_a_message_not_a_500(client, auth, case, name, data, words):
    auth.login("coordinator")
    response = upload(client, case.alliance.id, name, data)
    assert response.status_code == 422
    assert words in text(response)


@pytest.mark.parametrize(("name", "bomb", "words"), [
    ("claimed.xlsx", lambda: claimed_dimension_bomb(b'<c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c>'),
     "values below row 101,000"),
    ("strings.xlsx", lambda: shared_strings_bomb(8_000_000), "shared-strings part unpacks to 38 MB"),
    ("texts.xlsx", lambda: shared_strings_bomb(1_000_001, noise=60_000), "more than 1,000,000 different texts"),
    ("empty.xlsx", lambda: empty_cells_bomb(1_000_016), "more than 1,000,000 cells without a value"),
    ("wide.csv", lambda: csv_bytes(ROWS) + b"," * 2_000_000, "has 2,000,001 columns"),
    ("long.csv", lambda: csv_bytes(ROWS) + b"\n" * 101_000, "values below row 101,000"),
])
def test_import_bombs_are_refused_within_seconds(client, auth, case, session, name, bomb, words):
    """Any partner member can upload: a small file must not keep a worker busy or take its memory."""
    auth.login("alpha")
    data = bomb()
    started = time.perf_counter()
    response = upload(client, case.alliance.id, name, data)
    assert time.perf_counter() - started < 3
    assert response.status_code == 422
    assert words in text(response)
    assert count(session) == 0


def test_wrong_encoding_is_read_with_a_note(client, auth, case, session):
    auth.login("coordinator")
    data = csv_bytes([["2020-05-04", "Alpha", "cost", "production", "5", "Caffè per la squadra"]],
                     encoding="cp1252", delimiter=";")
    preview, done = full_import(client, case.alliance.id, "win.csv", data)
    assert "read as Windows-1252" in text(preview)
    assert "Caffè per la squadra" in text(preview)
    assert done.status_code == 302
    session.rollback()
    assert session.scalars(select(Entry.description)).one() == "Caffè per la squadra"


def test_too_large_upload_is_a_message(app, client, auth, case):
    app.config["IMPORT_MAX_BYTES"] = 4096
    auth.login("coordinator")
    response = upload(client, case.alliance.id, "big.csv", csv_bytes(ROWS * 100))
    assert response.status_code == 413
    assert "larger than 4 KB" in text(response)


def test_the_upload_page_states_the_limits(client, auth, case):
    auth.login("coordinator")
    page = text(client.get(f"/a/{case.alliance.id}/import"))
    assert "Up to 100,000 rows and 64 MB a file." in page


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_steps_after_the_upload_use_what_it_read_or_read_the_file_again(app, client, auth, case, session,
                                                                             tmp_path, fmt):
    auth.login("coordinator")
    data = csv_bytes(ROWS) if fmt == "csv" else xlsx_bytes(ROWS)
    name = f"kept.{fmt}"
    upload(client, case.alliance.id, name, data)
    sha = hashlib.sha256(data).hexdigest()
    folder = tmp_path / "imports"
    kept = folder / f"{case.alliance.id}-{sha}.{fmt}.json"
    head = folder / f"{case.alliance.id}-{sha}.{fmt}.head.json"
    assert kept.exists()
    assert head.exists()
    page = text(client.get(f"/a/{case.alliance.id}/import/{sha}?name={name}"))
    assert "3 rows below the header" in page
    assert "First masks sold" in page
    assert "All 3 rows are valid" in text(step(client, case.alliance.id, name, data, "preview"))
    assert (folder / f"{case.alliance.id}-{sha}.verdict").exists()  # the plan, for the import
    kept.unlink()  # e.g. staged by an older version of the app: the file itself is read again
    head.unlink()
    assert "3 rows below the header" in text(client.get(f"/a/{case.alliance.id}/import/{sha}?name={name}"))
    assert "All 3 rows are valid" in text(step(client, case.alliance.id, name, data, "preview"))
    assert step(client, case.alliance.id, name, data, "run").status_code == 302
    assert sorted(folder.iterdir()) == []  # the import removes the staged file and what was read from it
    assert count(session) == 3


def test_a_missing_staged_file_is_a_404_with_a_message(client, auth, case):
    auth.login("coordinator")
    response = client.get(f"/a/{case.alliance.id}/import/{'0' * 64}?name=x.csv")
    assert response.status_code == 404
    assert "upload it again" in text(response)
    assert client.get(f"/a/{case.alliance.id}/import/not-a-sha").status_code == 404


def test_upload_without_a_file(client, auth, case):
    auth.login("coordinator")
    response = client.post(f"/a/{case.alliance.id}/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose a file" in text(response)


def test_renaming_the_file_in_the_url_is_a_message(client, auth, case):
    auth.login("coordinator")
    location = upload(client, case.alliance.id, "a.csv", csv_bytes(ROWS)).headers["Location"]
    response = client.get(location.replace("name=a.csv", "name=a.pdf"))
    assert response.status_code == 422
    assert "Upload an Excel workbook" in text(response)


@pytest.fixture
def csrf_app(database_url, tmp_path):
    from ledger import create_app
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "csrf-tests",
                      "WTF_CSRF_ENABLED": True, "IMPORT_FOLDER": str(tmp_path / "imports")})
    yield app
    app.extensions["ledger.engine"].dispose()


def test_import_forms_need_the_csrf_token_and_take_files_over_the_global_limit(csrf_app):
    from tests.builders import PASSWORD, build_case
    session = csrf_app.extensions["ledger.sessions"]()
    case = build_case(session)
    session.commit()
    client = csrf_app.test_client()

    def token(page: str) -> str:
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    client.post("/login", data={"email": "coordinator@example.org", "password": PASSWORD,
                                "csrf_token": token(client.get("/login").get_data(as_text=True))})
    aid = case.alliance.id
    # Over the app-wide 2 MB limit: the import route has its own (64 MB by default).
    data = csv_bytes([[*ROWS[0][:5], "x" * 300]] * 9_000)
    assert len(data) > csrf_app.config["MAX_CONTENT_LENGTH"]
    refused = client.post(f"/a/{aid}/import", data={"file": (io.BytesIO(data), "big.csv")},
                          content_type="multipart/form-data")
    assert refused.status_code == 400
    assert "CSRF" in refused.get_data(as_text=True)
    page = client.get(f"/a/{aid}/import").get_data(as_text=True)
    accepted = client.post(f"/a/{aid}/import", data={"file": (io.BytesIO(data), "big.csv"),
                                                     "csrf_token": token(page)}, content_type="multipart/form-data")
    assert accepted.status_code == 302
    mapping_page = client.get(accepted.headers["Location"]).get_data(as_text=True)
    assert step(client, aid, "big.csv", data, "preview").status_code == 400  # no token
    assert step(client, aid, "big.csv", data, "run").status_code == 400
    assert "csrf_token" in mapping_page
    session.close()
