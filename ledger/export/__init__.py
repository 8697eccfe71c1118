"""Accountants' exports: the ledger of a period as an .xlsx workbook with live formulas, or as CSV.

The workbook is written in openpyxl's streaming (write-only) mode from
streamed queries, so a large alliance never sits in memory; every balance
figure in it is a formula over the Ledger and Splits sheets, so an
accountant can follow how each number is made and it reconciles to the cent
with :func:`ledger.queries.balance_sheet`.
"""
