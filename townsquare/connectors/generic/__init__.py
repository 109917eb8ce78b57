"""CSV and JSON Lines exports of any tool, read through a column mapping."""
