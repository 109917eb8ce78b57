"""Tests of the Stack Exchange data dump importer."""
