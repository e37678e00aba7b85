"""Multi-row INSERTs without building model instances (the bulk paths of credit
ingestion and the scale seeding), on PostgreSQL and SQLite alike.

`bulk_insert(Model, ["field", ...], rows)` writes plain tuples. On PostgreSQL the
rows go in one COPY (text format, every value escaped by `copy_line`: no SQL is
parsed per row); elsewhere each value is prepared by its field, in multi-row
INSERTs that respect the backend's parameter limit. Constraint violations raise
Django's IntegrityError as `bulk_create` would.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from django.db import connection

# COPY's text format: backslash, tab, newline and carriage return are escaped; \N is NULL.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_value(value) -> str:
    """One value as COPY's text format reads it (str() of bool, int, Decimal, date and an
    aware datetime is what PostgreSQL reads back). NUL is refused by `copy_text`."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    return str(value)


def copy_line(row: Sequence) -> str:
    # copy_value, inlined: this runs once per value of every bulk row.
    return "\t".join(["\\N" if v is None else v.translate(_COPY_ESCAPES) if isinstance(v, str) else str(v)
                      for v in row]) + "\n"


def copy_text(rows: Sequence[Sequence]) -> str:
    """The rows as COPY text; a NUL anywhere (no PostgreSQL text can hold one) is refused."""
    text = "".join([copy_line(row) for row in rows])
    if "\x00" in text:
        raise ValueError("A string cannot contain NUL (0x00) characters.")
    return text


def copy_rows(model, fields: Sequence[str], stream) -> None:
    """COPY a file-like object of `copy_line` lines into the model's table (PostgreSQL)."""
    opts = model._meta
    columns = ", ".join(connection.ops.quote_name(opts.get_field(f).column) for f in fields)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        # Only the model's own table and column names are formatted in; the values travel as data.
        cursor.cursor.copy_expert(f"COPY {connection.ops.quote_name(opts.db_table)} ({columns}) FROM STDIN",
                                  stream, size=256 * 1024)


def bulk_insert(model, fields: Sequence[str], rows: Sequence[Sequence], *, page_size: int = 1000) -> int:
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        copy_rows(model, fields, io.StringIO(copy_text(rows)))
        return len(rows)
    opts = model._meta
    model_fields = [opts.get_field(name) for name in fields]
    table = connection.ops.quote_name(opts.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in model_fields)
    with connection.cursor() as cursor:
        max_params = connection.features.max_query_params or 999
        per_page = max(1, min(page_size, max_params // len(fields)))
        for start in range(0, len(rows), per_page):
            page = rows[start:start + per_page]
            params = [
                field.get_db_prep_save(value, connection)
                for row in page
                for field, value in zip(model_fields, row, strict=True)
            ]
            placeholders = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(page))
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {placeholders}", params)  # noqa: S608
    return len(rows)
