"""Importing a partner's existing spreadsheet: reading the file, mapping its columns, parsing its rows.

Plain Python (no Flask, no database): :mod:`reading` turns uploaded bytes into
a header and rows or a clear :class:`~ledger.imports.reading.ImportFileError`;
:mod:`mapping` says which column holds which entry field; :mod:`rows` turns a
row into the raw dict ``record_entry`` validates; :mod:`checks` applies
``record_entry``'s (and ``reverse_entry``'s) rules to every row at once, in
memory, against the alliance's tables that ``ledger.services.imports`` loads
once, so an imported row and a typed form obey exactly the same rules.
"""
