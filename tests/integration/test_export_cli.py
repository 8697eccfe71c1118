"""``flask --app wsgi ledger export``: the file lands in the export directory, named by alliance, period and time."""

from __future__ import annotations

import csv

import pytest
from openpyxl import load_workbook

from tests.builders import record


@pytest.fixture
def runner(app, tmp_path):
    app.config["EXPORT_DIR"] = str(tmp_path / "exports")
    return app.test_cli_runner()


def test_export_a_month_as_xlsx(runner, session, case, tmp_path):
    june = record(session, case, "beta", partner="Beta", kind="revenue", category="sales", amount="5.00",
                  date="2020-06-15")
    record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="1.00",
           date="2020-04-15")
    session.commit()
    result = runner.invoke(args=["ledger", "export", str(case.alliance.id), "--month", "2020-06"])
    assert result.exit_code == 0, result.output
    files = list((tmp_path / "exports").iterdir())
    assert len(files) == 1
    name = files[0].name
    assert name.startswith(f"alliance-{case.alliance.id}-ppe-masks-2020_2020-06-01_2020-06-30_exported-")
    assert name.endswith(".xlsx")
    assert str(files[0]) in result.output
    ledger = load_workbook(files[0])["Ledger"]
    assert [r[0] for r in ledger.iter_rows(min_row=2, values_only=True)] == [june.id]


def test_export_a_range_as_csv(runner, session, case, tmp_path):
    record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="1.00",
           date="2020-04-15")
    session.commit()
    result = runner.invoke(args=["ledger", "export", str(case.alliance.id), "--from", "2020-04-01",
                                 "--to", "2020-04-30", "--format", "csv"])
    assert result.exit_code == 0, result.output
    (path,) = (tmp_path / "exports").iterdir()
    assert "_2020-04-01_2020-04-30_" in path.name
    assert path.suffix == ".csv"
    with open(path, encoding="utf-8-sig", newline="") as f:
        assert len(list(csv.reader(f))) == 2


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "2020-04-31"], "error: from:"),
    (["--from", "2020-05-01", "--to", "2020-04-01"], "error: to:"),
    (["--month", "June"], "error: month:"),
    (["--quarter", "2020-Q9"], "error: quarter:"),
    (["--format", "pdf"], "error: format:"),
])
def test_bad_input_is_an_error_at_the_field(runner, case, tmp_path, args, message):
    result = runner.invoke(args=["ledger", "export", str(case.alliance.id), *args])
    assert result.exit_code == 1
    assert message in result.output
    assert not (tmp_path / "exports").exists()


def test_an_unknown_alliance(runner, case):
    result = runner.invoke(args=["ledger", "export", "999999"])
    assert result.exit_code == 1
    assert "no alliance" in result.output
