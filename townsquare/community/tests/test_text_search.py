"""Text search (community/text_search.py): the same answers as a case-insensitive substring,
from the index the migration builds, kept in step with every insert, edit and delete."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from townsquare.community.models import Interaction, InteractionKind, Source
from townsquare.community.text_search import FTS_TABLE, MARK_TABLE, containing, index_pending

pytestmark = pytest.mark.django_db

TEXTS = [
    "Élan vital, as the French say",
    "the élan of a new release",
    "ÉLAN in capitals",
    "Straße or STRASSE",
    "Our webhook setup",
    "WebHooks! Many of them",
    "ab",
    "100% sure about it",
    "snake_case names",
    "a back\\slash",
    "日本語のメッセージ",
    "",
]
QUERIES = [
    "élan",
    "ÉLAN",
    "Élan",
    "webhook",
    "WEBHOOKS",
    "hook",
    "ab",
    "a",
    "100%",
    "_case",
    "k\\s",
    "straße",
    "本語の",
    "nothing like it",
]


@pytest.fixture
def interactions() -> dict[str, int]:
    source = Source.objects.create(name="Forum", platform="discourse")
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    return {
        text: Interaction.objects.create(
            source=source,
            external_id=str(n),
            kind=InteractionKind.MESSAGE,
            text=text,
            created_at=moment,
            content_hash=str(n),
            imported_at=moment,
        ).pk
        for n, text in enumerate(TEXTS)
    }


def found(text: str) -> set[int]:
    return set(Interaction.objects.filter(containing(text)).values_list("pk", flat=True))


def expected(text: str, interactions: dict[str, int]) -> set[int]:
    # Case folded by lower(), as people read it; no text above needs more than that.
    return {pk for body, pk in interactions.items() if text.lower() in body.lower()}


def not_indexed() -> int:
    """Interactions after the index's mark (SQLite)."""
    if connection.vendor != "sqlite":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM community_interaction"  # noqa: S608
            f" WHERE id > (SELECT indexed_through FROM {MARK_TABLE})"
        )
        return int(cursor.fetchone()[0])


@pytest.mark.parametrize("indexed", [False, True], ids=["newer", "indexed"])
@pytest.mark.parametrize("query", QUERIES)
def test_it_finds_what_a_case_insensitive_substring_finds(
    interactions: dict[str, int], query: str, indexed: bool
) -> None:
    if indexed:
        index_pending()
        assert not_indexed() == 0
    assert found(query) == expected(query, interactions)


def test_new_interactions_wait_after_the_mark_until_indexed(
    interactions: dict[str, int],
) -> None:
    sqlite = connection.vendor == "sqlite"
    assert not_indexed() == (len(TEXTS) if sqlite else 0)
    assert index_pending() == (len(TEXTS) if sqlite else 0)
    assert not_indexed() == 0
    assert index_pending() == 0


@pytest.mark.parametrize("indexed", [False, True], ids=["newer", "indexed"])
def test_it_follows_edits_and_deletes(interactions: dict[str, int], indexed: bool) -> None:
    if indexed:
        index_pending()
    webhook = Interaction.objects.get(pk=interactions["Our webhook setup"])
    webhook.text = "Our integration setup"
    webhook.save()
    assert found("webhook") == {interactions["WebHooks! Many of them"]}
    assert found("integration") == {webhook.pk}
    Interaction.objects.filter(pk=interactions["WebHooks! Many of them"]).delete()
    assert found("webhook") == set()
    # A bulk update (an erasure) goes through the same trigger.
    Interaction.objects.filter(pk=webhook.pk).update(text="")
    assert found("integration") == set()
    index_pending()
    assert found("webhook") == set()
    assert found("élan") == expected("élan", interactions)
    if connection.vendor == "sqlite":
        # FTS5 checks its own index: telling it to forget text it was never given (a wrong
        # trigger) leaves it inconsistent, and this fails.
        with connection.cursor() as cursor:
            check = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('integrity-check')"  # noqa: S608
            cursor.execute(check)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 table")
def test_sqlite_answers_from_the_trigram_index(interactions: dict[str, int]) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert found("webhook")
    (sql,) = (q["sql"] for q in queries.captured_queries)
    assert FTS_TABLE in sql
    with connection.cursor() as cursor:
        plan_sql = f"EXPLAIN QUERY PLAN SELECT rowid FROM {FTS_TABLE} WHERE text LIKE %s"  # noqa: S608
        cursor.execute(plan_sql, ["%webhook%"])
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "VIRTUAL TABLE INDEX" in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's pg_trgm index")
def test_postgresql_has_the_trigram_index() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'community_interaction_text_trgm'"
        )
        (definition,) = cursor.fetchone() or ("",)
    assert "gin_trgm_ops" in definition
