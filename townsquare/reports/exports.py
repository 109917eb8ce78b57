"""A chart's table as CSV (spreadsheet-safe, as the member list's export) and as Parquet."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from townsquare.front.members_filters import safe_cell
from townsquare.reports.data import Kind, Table

ARROW_TYPES: dict[Kind, Any] = {
    "text": pa.string(),
    "date": pa.date32(),
    "int": pa.int64(),
    "float": pa.float64(),
    "percent": pa.float64(),
    "hours": pa.float64(),
}


def csv_cell(value: object) -> object:
    """A cell as the CSV writes it: no value is an empty cell, a day is YYYY-MM-DD, and text
    a spreadsheet would run as a formula is defused."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return safe_cell(value)


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.key for c in table.columns])
    for row in table.rows:
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()


def to_parquet(table: Table) -> bytes:
    schema = pa.schema([pa.field(c.key, ARROW_TYPES[c.kind]) for c in table.columns])
    columns = [[row[n] for row in table.rows] for n in range(len(table.columns))]
    arrow = pa.Table.from_arrays(
        [pa.array(values, type=f.type) for values, f in zip(columns, schema, strict=True)],
        schema=schema,
    )
    out = io.BytesIO()
    pq.write_table(arrow, out)
    return out.getvalue()
