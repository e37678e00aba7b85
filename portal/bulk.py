"""Multi-row INSERTs without building model instances (the bulk paths of credit
ingestion and the scale seeding), on PostgreSQL and SQLite alike.

`bulk_insert(Model, ["field", ...], rows)` writes plain tuples. On PostgreSQL the
values go to psycopg2 as they are (it adapts Decimal, date and datetime itself) in
one `execute_values` statement per page; elsewhere each value is prepared by its
field, in pages that respect the backend's parameter limit. Constraint violations
raise IntegrityError as `bulk_create` would.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection


def bulk_insert(model, fields: Sequence[str], rows: Sequence[Sequence], *, page_size: int = 1000) -> int:
    if not rows:
        return 0
    opts = model._meta
    model_fields = [opts.get_field(name) for name in fields]
    table = connection.ops.quote_name(opts.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in model_fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            # Only the model's own table and column names are formatted in; values are parameters.
            execute_values(cursor.cursor, f"INSERT INTO {table} ({columns}) VALUES %s", rows,  # noqa: S608
                           page_size=page_size)
            return len(rows)
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
