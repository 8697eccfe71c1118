"""Which column of the sheet holds which entry field: guessed from header names, remembered per alliance.

A mapping is stored as ``{field: header name}`` (not column positions), so a
partner who inserts a column in its sheet keeps its mapping.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ledger.domain.errors import FieldErrors


@dataclass(frozen=True)
class ImportField:
    key: str
    label: str
    required: bool
    hint: str
    synonyms: tuple[str, ...]


FIELDS: tuple[ImportField, ...] = (
    ImportField("date", "Date", True, "A date cell or YYYY-MM-DD.", ("date", "data", "day", "entrydate", "datum")),
    ImportField("partner", "Partner", True, "The partner's name as in this alliance.",
                ("partner", "partnername", "socio", "firm", "company", "azienda")),
    ImportField("kind", "Kind", False,
                "cost, contribution, service fee, revenue or settlement. Leave unmapped if the amount is signed: "
                "negative = cost, positive = revenue.", ("kind", "type", "tipo", "entrykind")),
    ImportField("category", "Category", False, "The category's name; settlements have none.",
                ("category", "categoria", "cat")),
    ImportField("amount", "Amount", True, "1234.56, 1.234,56 or a number cell.",
                ("amount", "importo", "value", "sum", "eur", "amounteur", "valore")),
    ImportField("description", "Description", True, "What it was.",
                ("description", "descrizione", "details", "item", "what")),
    ImportField("reference", "Reference", False, "Optional: invoice number or link.",
                ("reference", "ref", "riferimento", "invoice")),
    ImportField("counterparty", "Paid to (settlements)", False, "Only settlements: who received the payment.",
                ("counterparty", "paidto", "controparte")),
    ImportField("entry_id", "Entry id (for reversals)", False,
                "The entry number in an exported ledger; lets \u201cReversal of #N\u201d rows find their original.",
                ("entryid", "id", "entry", "entryno")),
    ImportField("reverses", "Reverses entry (for reversals)", False,
                "In an exported ledger: the entry id a reversal row reverses.", ("reversesentry", "reverses")),
)
FIELD_KEYS = tuple(f.key for f in FIELDS)
LABELS = {f.key: f.label for f in FIELDS}


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


def guess(header: list[str], remembered: dict[str, str] | None = None) -> dict[str, str]:
    """The remembered mapping where its columns still exist, else a column whose name matches the field."""
    by_norm = {_norm(name): name for name in header}
    present = {name.casefold(): name for name in header}
    chosen: dict[str, str] = {}
    for f in FIELDS:
        old = (remembered or {}).get(f.key)
        if old and old.casefold() in present:
            chosen[f.key] = present[old.casefold()]
            continue
        if remembered and f.key in remembered and not remembered[f.key]:
            continue  # deliberately left unmapped last time
        for synonym in f.synonyms:
            if synonym in by_norm and by_norm[synonym] not in chosen.values():
                chosen[f.key] = by_norm[synonym]
                break
    return chosen


def resolve(raw: dict[str, object], header: list[str]) -> tuple[dict[str, str], dict[str, int]]:
    """Validate a submitted mapping against the header: ``({field: name}, {field: column index})``."""
    errors = FieldErrors()
    names: dict[str, str] = {}
    columns: dict[str, int] = {}
    used: dict[int, str] = {}
    for f in FIELDS:
        value = raw.get(f.key)
        value = value.strip() if isinstance(value, str) else ""
        if not value:
            if f.required:
                errors.add(f.key, f"Choose the column that holds the {f.label.lower()}.")
            names[f.key] = ""
            continue
        if value not in header:
            errors.add(f.key, f"The file has no column \u201c{value[:60]}\u201d.")
            continue
        index = header.index(value)
        if index in used:
            errors.add(f.key, f"\u201c{value}\u201d is already mapped to {LABELS[used[index]].lower()}.")
            continue
        used[index] = f.key
        names[f.key] = value
        columns[f.key] = index
    errors.raise_if_any()
    return names, columns


def dumps(names: dict[str, str]) -> str:
    return json.dumps({k: names.get(k, "") for k in FIELD_KEYS}, sort_keys=True)


def loads(text: str | None) -> dict[str, str]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return {k: v for k, v in data.items() if k in FIELD_KEYS and isinstance(v, str)} if isinstance(data, dict) else {}
