"""The import benchmark on a small export, and the writer's fast paths against its reference."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from django.db import connection

from benchmarks.slack_import import bench
from townsquare.community.models import Conversation, Interaction, InteractionKind, Source
from townsquare.connectors.models import ImportRun
from townsquare.connectors.records import ConversationRecord, InteractionRecord, Record
from townsquare.connectors.writer import Writer

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def count_interactions(export: Path) -> int:
    """Messages plus one reaction per reacting user, read straight from the day files."""
    total = 0
    for day in export.glob("*/*.json"):
        for message in json.loads(day.read_text(encoding="utf-8")):
            total += 1
            for reaction in message.get("reactions", []):
                total += len(reaction["users"])
    return total


def test_it_benchmarks_a_small_export(tmp_path: Path) -> None:
    result = bench(2000, tmp_path, keep=True)

    assert {"machine", "import", "ceiling", "ratio", "targets", "targets_met"} <= set(result)
    assert {"rows", "seconds", "rows_per_s", "peak_rss_mb", "counts"} <= set(result["import"])
    assert {"rows", "seconds", "rows_per_s"} <= set(result["ceiling"])
    assert json.loads((tmp_path / "slack_import.json").read_text()) == result
    (export,) = (p for p in tmp_path.glob("slack-export-*") if p.is_dir())
    assert result["import"]["counts"]["community_interaction"] == count_interactions(export)
    assert result["ceiling"]["rows"] == result["import"]["rows"]
    assert 0 < result["import"]["peak_rss_mb"] < 1000


def reference_digest(*parts: object) -> str:
    """The content digest as first written: rows imported then must stay unchanged."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(b"\x1f")
        h.update(str(part).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def write(records: list[Record], source: Source, batch_size: int = 2) -> ImportRun:
    run = ImportRun.objects.create(source=source, format="slack", path="memory")
    writer = Writer(run=run, source=source, batch_size=batch_size)
    for record in records:
        writer.add(record)
    writer.finish()
    run.refresh_from_db()
    return run


@pytest.mark.django_db
def test_it_stores_the_reference_digest_and_times() -> None:
    source = Source.objects.create(name="s", platform="slack")
    paris = timezone(timedelta(hours=1))
    records: list[Record] = [
        InteractionRecord(
            external_id="a",
            kind=InteractionKind.MESSAGE,
            created_at=T0,
            author_id="u1",
            channel_id="c1",
            conversation_id="a",
            text="café 🎉 日本語",
            raw={"z": 1, "a": ["é", T0]},
        ),
        InteractionRecord(
            external_id="b",
            kind=InteractionKind.REPLY,
            created_at=datetime(2025, 3, 1, 13, 0, 0, 250, tzinfo=paris),
            edited_at=T0 + timedelta(hours=1),
            author_id="u2",
            channel_id="c1",
            conversation_id="a",
            parent_id="a",
            raw=None,
        ),
    ]
    write(records, source)

    for r in records:
        assert isinstance(r, InteractionRecord)
        created = r.created_at.astimezone(UTC)
        edited = r.edited_at.astimezone(UTC) if r.edited_at else None
        raw_json = json.dumps(r.raw, ensure_ascii=False, default=str, sort_keys=True)
        expected = reference_digest(
            r.kind, r.author_id, r.channel_id, r.conversation_id, r.parent_id, r.text, r.url,
            created.isoformat(), edited.isoformat() if edited else "", raw_json,
        )  # fmt: skip
        row = Interaction.objects.get(source=source, external_id=r.external_id)
        assert row.content_hash == expected
        assert (row.created_at, row.edited_at) == (created, edited)
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(
                    # Cast, or the backend's converters would parse the stored text.
                    "SELECT CAST(created_at AS TEXT), CAST(edited_at AS TEXT), raw"
                    " FROM community_interaction WHERE id = %s",
                    [row.pk],
                )
                assert cursor.fetchone() == (
                    str(created.replace(tzinfo=None)),
                    str(edited.replace(tzinfo=None)) if edited else None,
                    raw_json,
                )


@pytest.mark.django_db
def test_it_handles_an_id_repeated_across_batches_of_a_first_import() -> None:
    source = Source.objects.create(name="s", platform="slack")

    def msg(ext: str, text: str, minutes: int = 0) -> InteractionRecord:
        return InteractionRecord(
            external_id=ext,
            kind=InteractionKind.MESSAGE,
            created_at=T0 + timedelta(minutes=minutes),
            author_id="u1",
            conversation_id="t",
            text=text,
        )

    run = write(
        [
            msg("m1", "first"),
            msg("m2", "second", 1),
            # Named by m1 and m2 first, so started from m1; then described in a later batch.
            ConversationRecord(external_id="t", started_at=T0, title="Thread"),
            msg("m1", "first, edited"),
            msg("m3", "third", 2),
        ],
        source,
    )

    assert run.counts["created"] == {"conversation": 1, "identity": 1, "message": 3}
    assert run.counts["updated"] == {"conversation": 1, "message": 1}
    assert Interaction.objects.get(external_id="m1").text == "first, edited"
    assert Conversation.objects.get().title == "Thread"
    assert set(Interaction.objects.values_list("conversation__external_id", flat=True)) == {"t"}

    again = write([msg("m1", "first, edited"), msg("m2", "second", 1)], source)
    assert again.counts["created"] == {}
    assert again.counts["unchanged"] == {"message": 2}
