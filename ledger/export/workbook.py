"""The accountants' workbook: Summary, Ledger, Splits, Allocation, Settlements and Activity sheets.

Every balance figure on the Summary sheet is a live formula: borne and
received are ``SUMIFS`` over the Ledger's integer minor-unit column; the
cost and return shares are ``SUMIFS`` over the Allocation sheet, where each
pool's total is split by the largest-remainder rule in formulas an
accountant can follow cell by cell (whole units, the floor of each share,
its fractional remainder, the rank of that remainder, the unit left over).
All arithmetic is on whole minor units, so the spreadsheet reproduces the
app's figures to the cent (LibreOffice and Excel compute in binary floating
point, which is exact for integers, never for 0.01).

The short sheets are written by openpyxl (write-only mode); the long ones
(Ledger, Settlements, Activity) are streamed from the database straight into
the package by :mod:`ledger.export.streamed`, so memory stays flat and
100,000 entries take seconds, not half a minute.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.workbook.properties import CalcProperties
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.table import Table, TableStyleInfo
from sqlalchemy.orm import Session

from ledger.clock import utcnow
from ledger.domain.money import minor_digits
from ledger.domain.vocabulary import EntryKind
from ledger.export.cells import Formula, SafeSheet
from ledger.export.period import ExportPeriod
from ledger.export.rows import (
    ClosedPeriod,
    LedgerRow,
    ShareRow,
    activity_rows,
    closed_periods,
    ledger_rows,
    partner_rows,
    split_rows,
)
from ledger.export.streamed import AMOUNT, DATE, DATETIME, INT, TEXT, StreamedSheet, assemble
from ledger.models import Alliance
from ledger.queries import BalanceSheet, balance_sheet
from ledger.statements import CommentRule, no_comment

#: The Ledger sheet's (and the CSV's) columns; the Summary and Allocation formulas name them by letter below.
LEDGER_COLUMNS = (
    "Entry id", "Date", "Kind", "Category", "Partner id", "Partner", "Counterparty id", "Counterparty",
    "Amount", "Amount (minor units)", "Agreement version", "Pool id", "Pool", "Reverses entry", "Description",
    "Reference", "Recorded by", "Recorded at (UTC)",
)
COL = {name: get_column_letter(i) for i, name in enumerate(LEDGER_COLUMNS, 1)}
L_KIND = f"Ledger!${COL['Kind']}:${COL['Kind']}"
L_CENTS = f"Ledger!${COL['Amount (minor units)']}:${COL['Amount (minor units)']}"
L_PARTNER = f"Ledger!${COL['Partner id']}:${COL['Partner id']}"
L_COUNTER = f"Ledger!${COL['Counterparty id']}:${COL['Counterparty id']}"
L_POOL = f"Ledger!${COL['Pool id']}:${COL['Pool id']}"

#: Weights have at most 4 decimals; times this they are whole numbers (as the database stores them).
WEIGHT_SCALE = 10_000
#: A weight's cell format: "General" shows 50 as "50" and 33.3333 as "33.3333" (Excel shows "0.####" as "50.").
WEIGHT_FORMAT = "General"
TABLE_STYLE = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)

SPLITS_COLUMNS = ("Version", "Effective from", "Effective to", "Version note", "Pool id", "Pool", "Side",
                  "Partner id", "Partner", "Weight")
#: The Allocation sheet, one column per step: (key, header, formula). ``{r}`` is the row, ``{first}``/``{last}``
#: the rows of the share's pool, ``{X}`` the letter of the column with key X.
ALLOCATION = (
    ("pool", "Pool id", "=Splits!E{r}"),
    ("version", "Version", "=Splits!A{r}"),
    ("name", "Pool", "=Splits!F{r}"),
    ("side", "Side", "=Splits!G{r}"),
    ("partner", "Partner id", "=Splits!H{r}"),
    ("pname", "Partner", "=Splits!I{r}"),
    ("units", "Weight in 1/10000", f"=ROUND(Splits!J{{r}}*{WEIGHT_SCALE},0)"),
    ("W", "Weight units W (reduced)", "={units}{r}/GCD({units}${first}:{units}${last})"),
    ("S", "Pool units S", "=SUM({W}${first}:{W}${last})"),
    ("T", "Pool total T (minor units)", f"=SUMIFS({L_CENTS},{L_POOL},{{pool}}{{r}})"),
    ("A", "|T|", "=ABS({T}{r})"),
    ("Q", "Q = |T| div S", "=INT({A}{r}/{S}{r})-IF({A}{r}-INT({A}{r}/{S}{r})*{S}{r}<0,1,0)"
                           "+IF({A}{r}-INT({A}{r}/{S}{r})*{S}{r}>={S}{r},1,0)"),
    ("R", "R = |T| mod S", "={A}{r}-{Q}{r}*{S}{r}"),
    ("F", "F = R*W div S", "=INT({R}{r}*{W}{r}/{S}{r})-IF({R}{r}*{W}{r}-INT({R}{r}*{W}{r}/{S}{r})*{S}{r}<0,1,0)"
                           "+IF({R}{r}*{W}{r}-INT({R}{r}*{W}{r}/{S}{r})*{S}{r}>={S}{r},1,0)"),
    ("rem", "Remainder (of S)", "={R}{r}*{W}{r}-{F}{r}*{S}{r}"),
    ("floor", "Floor share = Q*W + F", "={Q}{r}*{W}{r}+{F}{r}"),
    ("left", "Units left in pool", "={A}{r}-SUM({floor}${first}:{floor}${last})"),
    ("rank", "Remainder rank", "=1+SUMPRODUCT(--({rem}${first}:{rem}${last}>{rem}{r})){ties}"),
    ("extra", "Extra unit", "=IF({rank}{r}<={left}{r},1,0)"),
    ("share", "Share (minor units)", "=SIGN({T}{r})*({floor}{r}+{extra}{r})"),
    ("major", "Share", "={share}{r}/{div}"),
)
A_COL = {key: get_column_letter(i) for i, (key, _, _) in enumerate(ALLOCATION, 1)}
A_SHARE = f"Allocation!${A_COL['share']}:${A_COL['share']}"
A_PARTNER = f"Allocation!${A_COL['partner']}:${A_COL['partner']}"
A_SIDE = f"Allocation!${A_COL['side']}:${A_COL['side']}"

SUMMARY_FIGURES = ("Borne", "Cost share", "Received", "Return share", "Net")


@dataclass(frozen=True)
class SummaryRows:
    """Where the Summary put its figures: the entry count's row, the first partner's row, the total row."""

    entries: int
    first: int
    total: int


@dataclass(frozen=True)
class Money:
    """How amounts of the alliance's currency are shown: divisor and number format."""

    currency: str
    digits: int

    @property
    def divisor(self) -> int:
        return 10 ** self.digits

    @property
    def number_format(self) -> str:
        decimals = "." + "0" * self.digits if self.digits else ""
        return f'#,##0{decimals} "{self.currency}";-#,##0{decimals} "{self.currency}"'

    def major(self, cents: int) -> float:
        """The amount in major units as the nearest double, exactly what typing it into a cell stores."""
        return cents / self.divisor


def _naive_utc(moment: datetime) -> datetime:
    """Spreadsheets have no time zones: UTC, said in the header."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


class _Cells(SafeSheet):
    """A :class:`SafeSheet` that also knows how the alliance's money is shown."""

    def __init__(self, sheet: WriteOnlyWorksheet, money: Money) -> None:
        super().__init__(sheet)
        self.money = money

    def amount(self, value):
        return self.cell(value, self.money.number_format)


def _widths(sheet: WriteOnlyWorksheet, widths: Iterable[int]) -> None:
    for i, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(i)].width = width


def write_workbook(session: Session, alliance: Alliance, period: ExportPeriod, target: str | BinaryIO,
                   exported_at: datetime | None = None, chain_head: str | None = None,
                   may_read_comments: CommentRule = no_comment) -> None:
    """Write the workbook of ``period`` to ``target`` (a path or a binary file object).

    ``may_read_comments``: whether the reader may see a partner's sign-off comments (by partner id; see
    ``ledger.statements.comment_reader``); without it, the sign-offs show their status and date only.

    ``chain_head``: the fingerprint of the alliance's hash chain to print on the Summary (read now if not given),
    so a partner can later check that the books it exported are still the books (the Verify page).
    """
    exported_at = exported_at or utcnow()
    if chain_head is None:
        from ledger.chain import head_of
        from ledger.domain.chain import fingerprint

        chain_head = fingerprint(head_of(session, alliance.id))
    money = Money(alliance.currency, minor_digits(alliance.currency))
    partners = partner_rows(session, alliance)
    shares = split_rows(session, alliance, period.start, period.end)
    closed = closed_periods(session, alliance, period.start, period.end, may_read_comments)

    book = Workbook(write_only=True)
    # Excel recalculates on open; LibreOffice needs telling (see ledger.export.recalc). openpyxl stores no
    # formula results: the Summary's are added by streamed.assemble from balance_sheet.
    book.calculation = CalcProperties(fullCalcOnLoad=True)
    rows = _summary(book.create_sheet("Summary"), alliance, period, exported_at, money, partners, closed,
                    chain_head)
    results = {1: _summary_results(balance_sheet(session, alliance, period.start, period.end), partners, rows,
                                   money)}
    streamed = {
        2: _ledger(book.create_sheet("Ledger"), money,
                   lambda: _ledger_values(ledger_rows(session, alliance, period.start, period.end), money)),
    }
    _splits(book.create_sheet("Splits"), shares, money)
    _allocation(book.create_sheet("Allocation"), shares, money)
    streamed[5] = _settlements(book.create_sheet("Settlements"), money, lambda: _settlement_values(
        ledger_rows(session, alliance, period.start, period.end, EntryKind.SETTLEMENT), money))
    streamed[6] = _activity(book.create_sheet("Activity"), money, lambda: _activity_values(
        activity_rows(session, alliance, period.start, period.end)))
    with tempfile.TemporaryDirectory(prefix="ledger-export-") as workdir:
        skeleton = f"{workdir}/skeleton.xlsx"
        book.save(skeleton)
        assemble(skeleton, target, streamed, results)


def _summary_results(sheet: BalanceSheet, partners: list[tuple[int, str]], where: SummaryRows,
                     money: Money) -> dict[str, int | float]:
    """What the Summary's formulas evaluate to, as the app computes it: stored as the cells' cached results."""
    first, total = where.first, where.total
    results: dict[str, int | float] = {f"B{where.entries}": sheet.entry_count}
    rows = [(first + i, sheet.row(pid)) for i, (pid, _) in enumerate(partners)]
    for r, b in rows:
        for minor, major, value in zip("CDEFG", "HIJKL", (b.borne, b.cost_share, b.received, b.return_share, b.net),
                                       strict=True):
            results[f"{minor}{r}"] = value
            results[f"{major}{r}"] = money.major(value)
    for minor, major, figure in zip("CDEFG", "HIJKL", ("borne", "cost_share", "received", "return_share", "net"),
                                    strict=True):
        results[f"{minor}{total}"] = sheet.total(figure)
        results[f"{major}{total}"] = money.major(sheet.total(figure))
    return results


def _sample(c: _Cells, kinds: tuple[str, ...]) -> list:
    """One row of placeholder cells styled as each column needs; streamed.assemble reads the styles off it."""
    samples = {INT: 0, DATE: c.cell(date(2000, 1, 1), "yyyy-mm-dd"),
               DATETIME: c.cell(_naive_utc(datetime(2000, 1, 1, tzinfo=UTC)), "yyyy-mm-dd hh:mm:ss"),
               AMOUNT: c.amount(0)}
    return [samples[k] if k != TEXT else c.cell("=sample") for k in kinds]


def _summary(sheet: WriteOnlyWorksheet, alliance: Alliance, period: ExportPeriod, exported_at: datetime,
             money: Money, partners: list[tuple[int, str]], closed: list[ClosedPeriod],
             chain_head: str = "") -> SummaryRows:
    c = _Cells(sheet, money)
    _widths(sheet, [14, 24] + [18] * 10)
    c.append([c.cell("Balance of ", bold=True), alliance.name])
    c.append(["Period from", c.cell(period.start, "yyyy-mm-dd"), "to", c.cell(period.end, "yyyy-mm-dd")])
    c.append(["Exported at (UTC)", c.cell(_naive_utc(exported_at), "yyyy-mm-dd hh:mm:ss")])
    c.append(["Currency", alliance.currency, f"Amounts in {alliance.currency}; the (minor units) columns "
              f"are whole {'cents' if money.digits == 2 else 'minor units'}, which every formula adds."])
    entries = c.append(["Entries", Formula("=COUNT(Ledger!$A:$A)")])
    c.append(["Chain head", chain_head, "The fingerprint of the alliance's hash chain when this was "
              "exported: paste it on the alliance's Verify page later to check that no record has changed since."])
    c.append(["Net = (borne - cost share) - (received - return share); positive: the others owe the partner. "
              "Cost and return shares come from the Allocation sheet (largest remainder per pool)."])
    c.header(["Partner id", "Partner", *(f"{f} (minor units)" for f in SUMMARY_FIGURES), *SUMMARY_FIGURES])
    first = c.next_row
    for partner_id, name in partners:
        c.append(_partner_figures(c, partner_id, name, c.next_row))
    if not partners:
        c.append([])  # the totals add up an empty row, never themselves
    last = c.rows
    total = c.next_row
    c.append([None, c.cell("Total", bold=True),
              *(c.cell(Formula(f"=SUM({col}{first}:{col}{last})"), "0", bold=True) for col in "CDEFG"),
              *(c.amount(Formula(f"={col}{total}/{money.divisor}")) for col in "CDEFG")])
    c.append([])
    c.append([c.cell("Control totals", bold=True)])
    _control_checks(c, total)
    c.append([])
    _signoffs(c, closed, partners)
    return SummaryRows(entries, first, total)


def _partner_figures(c: _Cells, partner_id: int, name: str, r: int) -> list:
    """One partner's Summary row ``r``: borne, shares, received and net as formulas, in minor and major units."""
    kinds_borne = ("cost", "contribution", "service_fee", "settlement")
    borne = "=" + "+".join(f'SUMIFS({L_CENTS},{L_PARTNER},$A{r},{L_KIND},"{k}")' for k in kinds_borne)
    received = (f'=SUMIFS({L_CENTS},{L_PARTNER},$A{r},{L_KIND},"revenue")'
                f'+SUMIFS({L_CENTS},{L_COUNTER},$A{r},{L_KIND},"settlement")')
    cost_share = f'=SUMIFS({A_SHARE},{A_PARTNER},$A{r},{A_SIDE},"costs")'
    return_share = f'=SUMIFS({A_SHARE},{A_PARTNER},$A{r},{A_SIDE},"returns")'
    net = f"=(C{r}-D{r})-(E{r}-F{r})"
    return [partner_id, name, *(c.cell(Formula(f), "0") for f in (borne, cost_share, received, return_share, net)),
            *(c.amount(Formula(f"={col}{r}/{c.money.divisor}")) for col in "CDEFG")]


#: The control checks under the totals: (label, the difference that must be 0, given the total row's number).
CONTROL_CHECKS: tuple[tuple[str, Callable[[int], str]], ...] = (
    ("Nets add up to zero", lambda total: f"=G{total}"),
    ("Cost shares = pooled borne amounts",
     lambda total: f'=D{total}-SUMIFS({L_CENTS},{L_POOL},"<>",{L_KIND},"<>revenue")'),
    ("Borne + received = ledger total + settlements",
     lambda total: f'=C{total}+E{total}-SUM({L_CENTS})-SUMIFS({L_CENTS},{L_KIND},"settlement")'),
)


def _control_checks(c: _Cells, total: int) -> None:
    """Each check's verdict tests the difference in its own row: the row number is the one being written."""
    for label, difference in CONTROL_CHECKS:
        r = c.next_row
        c.append([label, c.cell(Formula(difference(total)), "0"), Formula(f'=IF(B{r}=0,"OK","CHECK")')])


def _signoffs(c: _Cells, closed: list[ClosedPeriod], partners: list[tuple[int, str]]) -> None:
    c.append([c.cell("Closed periods in this range and partners' sign-off", bold=True)])
    if not closed:
        c.append(["No period in this range is closed yet: these figures may still change."])
        return
    c.header(["Period from", "Period to", "Closed at (UTC)", "Closed by", *(name for _, name in partners)])
    for p in closed:
        answers = []
        for partner_id, _ in partners:
            status, comment, when = p.answers.get(partner_id, ("not signed yet", "", None))
            text = status if when is None else f"{status} {_naive_utc(when):%Y-%m-%d}"
            answers.append(f"{text}: {comment}" if comment else text)
        c.append([c.cell(p.start, "yyyy-mm-dd"), c.cell(p.end, "yyyy-mm-dd"),
                  c.cell(_naive_utc(p.closed_at), "yyyy-mm-dd hh:mm:ss"), p.closed_by, *answers])


LEDGER_KINDS = (INT, DATE, TEXT, TEXT, INT, TEXT, INT, TEXT, AMOUNT, INT, INT, INT, TEXT, INT, TEXT, TEXT, TEXT,
                DATETIME)


def _ledger(sheet: WriteOnlyWorksheet, money: Money, rows: Callable[[], Iterable[tuple]]) -> StreamedSheet:
    c = _Cells(sheet, money)
    _widths(sheet, [9, 11, 12, 14, 9, 16, 9, 16, 16, 12, 9, 8, 16, 9, 40, 16, 18, 19])
    sheet.freeze_panes = "A2"
    c.append(LEDGER_COLUMNS)  # plain header: the table's style makes it bold
    c.append(_sample(c, LEDGER_KINDS))
    table = Table(displayName="LedgerEntries", ref=f"A1:{get_column_letter(len(LEDGER_COLUMNS))}2",
                  tableStyleInfo=TABLE_STYLE)
    table._initialise_columns()
    for column, name in zip(table.tableColumns, LEDGER_COLUMNS, strict=True):
        column.name = name
    with warnings.catch_warnings():  # "you must add table columns manually": done just above
        warnings.simplefilter("ignore", UserWarning)
        sheet.add_table(table)
    return StreamedSheet("Ledger", LEDGER_KINDS, rows, table="LedgerEntries")


def _ledger_values(rows: Iterable[LedgerRow], money: Money) -> Iterator[tuple]:
    for e in rows:
        yield (e.id, e.entry_date, e.kind.value, e.category, e.partner_id, e.partner, e.counterparty_id,
               e.counterparty, money.major(e.amount), e.amount, e.version, e.pool_id, e.pool, e.reverses_id,
               e.description, e.reference, e.recorded_by, _naive_utc(e.recorded_at))


def _splits(sheet: WriteOnlyWorksheet, shares: list[ShareRow], money: Money) -> None:
    c = _Cells(sheet, money)
    _widths(sheet, [9, 13, 13, 30, 8, 18, 9, 9, 18, 10])
    sheet.freeze_panes = "A2"
    c.header(SPLITS_COLUMNS)
    for s in shares:
        c.append([s.version, c.cell(s.effective_from, "yyyy-mm-dd"),
                  c.cell(s.effective_to, "yyyy-mm-dd") if s.effective_to else "(current)", s.note,
                  s.pool_id, s.pool, s.side.value, s.partner_id, s.partner, c.cell(s.weight, WEIGHT_FORMAT)])


def _pool_spans(shares: list[ShareRow], first_row: int) -> list[tuple[int, int]]:
    """(first, last) sheet row of each share's pool; shares of one pool are adjacent."""
    spans: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(shares) + 1):
        if i == len(shares) or shares[i].pool_id != shares[start].pool_id:
            spans.extend([(first_row + start, first_row + i - 1)] * (i - start))
            start = i
    return spans


def _allocation(sheet: WriteOnlyWorksheet, shares: list[ShareRow], money: Money) -> None:
    """One row per share, aligned with the Splits sheet's rows (row r here is row r there)."""
    c = _Cells(sheet, money)
    _widths(sheet, [8, 8, 18, 9, 9, 16] + [14] * (len(ALLOCATION) - 6))
    sheet.freeze_panes = "A2"
    c.header(header for _, header, _ in ALLOCATION)
    rem = A_COL["rem"]
    for (first, last), r in zip(_pool_spans(shares, 2), range(2, len(shares) + 2), strict=True):
        # Equal remainders: the earlier row (lower partner id) wins, as in ledger.domain.allocation.
        ties = f"+SUMPRODUCT(--({rem}${first}:{rem}{r - 1}={rem}{r}))" if r > first else ""
        cells = []
        for key, _, template in ALLOCATION:
            formula = Formula(template.format(r=r, first=first, last=last, ties=ties, div=money.divisor, **A_COL))
            cells.append(c.amount(formula) if key == "major" else formula)
        c.append(cells)


SETTLEMENT_COLUMNS = ("Entry id", "Date", "Payer", "Payee", "Amount", "Amount (minor units)", "Reverses entry",
                      "Description", "Reference", "Recorded by", "Recorded at (UTC)")
SETTLEMENT_KINDS = (INT, DATE, TEXT, TEXT, AMOUNT, INT, INT, TEXT, TEXT, TEXT, DATETIME)
ACTIVITY_COLUMNS = ("Event", "Time (UTC)", "Who", "Action", "What happened", "Entry id")
ACTIVITY_KINDS = (INT, DATETIME, TEXT, TEXT, TEXT, INT)


def _settlements(sheet: WriteOnlyWorksheet, money: Money, rows: Callable[[], Iterable[tuple]]) -> StreamedSheet:
    c = _Cells(sheet, money)
    _widths(sheet, [9, 11, 16, 16, 16, 12, 9, 40, 16, 18, 19])
    sheet.freeze_panes = "A2"
    c.header(SETTLEMENT_COLUMNS)
    c.append(_sample(c, SETTLEMENT_KINDS))
    return StreamedSheet("Settlements", SETTLEMENT_KINDS, rows)


def _settlement_values(rows: Iterable[LedgerRow], money: Money) -> Iterator[tuple]:
    for e in rows:
        yield (e.id, e.entry_date, e.partner, e.counterparty, money.major(e.amount), e.amount, e.reverses_id,
               e.description, e.reference, e.recorded_by, _naive_utc(e.recorded_at))


def _activity(sheet: WriteOnlyWorksheet, money: Money, rows: Callable[[], Iterable[tuple]]) -> StreamedSheet:
    c = _Cells(sheet, money)
    _widths(sheet, [8, 19, 18, 18, 80, 9])
    sheet.freeze_panes = "A2"
    c.header(ACTIVITY_COLUMNS)
    c.append(_sample(c, ACTIVITY_KINDS))
    return StreamedSheet("Activity", ACTIVITY_KINDS, rows)


def _activity_values(rows: Iterable[tuple]) -> Iterator[tuple]:
    for seq, when, who, action, summary, entry_id in rows:
        yield seq, _naive_utc(when), who or "(system)", action, summary, entry_id
