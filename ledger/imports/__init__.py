"""Importing a partner's existing spreadsheet: reading the file, mapping its columns, parsing its rows.

Plain Python (no Flask, no database): :mod:`reading` turns uploaded bytes into
a header and rows or a clear :class:`~ledger.imports.reading.ImportFileError`;
:mod:`mapping` says which column holds which entry field; :mod:`rows` turns a
row into the raw dict ``record_entry`` validates, so an imported row and a
typed form obey exactly the same rules.
"""
