"""Tests of the generic CSV and JSON Lines importers, on real YouTube comments and fixtures."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from townsquare.community.models import (
    Channel,
    Conversation,
    Identity,
    Interaction,
    InteractionKind,
)
from townsquare.connectors.base import ImportFormatError
from townsquare.connectors.generic.importer import parse_time
from townsquare.lib.testing import import_export

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FORUM_CSV = FIXTURES / "forum-comments.csv"
FORUM_MAPPING = FIXTURES / "forum-comments.mapping.json"
COMMUNITY_JSONL = FIXTURES / "community.jsonl"
YOUTUBE_OPTIONS = {
    "map.id": "COMMENT_ID",
    "map.author_name": "AUTHOR",
    "map.created_at": "DATE",
    "map.text": "CONTENT",
    "kind": "comment",
    "channel": "psy",
}


def youtube_files(shared_data: Path) -> list[Path]:
    files = sorted((shared_data / "youtube_spam_collection").glob("Youtube*.csv"))
    assert files, "no YouTube comment files in the shared data"
    return files


def count_youtube_rows(path: Path) -> tuple[int, int, set[str]]:
    """(rows with a date, rows without one, authors of dated rows), read independently."""
    dated, undated, authors = 0, 0, set()
    with path.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            if not any((v or "").strip() for v in row.values()):
                continue
            if (row["DATE"] or "").strip():
                dated += 1
                authors.add(row["AUTHOR"].strip())
            else:
                undated += 1
    return dated, undated, authors


@pytest.mark.django_db
@pytest.mark.parametrize("index", [0, 1, 2])
def test_it_imports_the_real_youtube_comments(shared_data: Path, index: int) -> None:
    files = youtube_files(shared_data)
    if index >= len(files):
        pytest.skip("fewer YouTube files in the shared data")
    path = files[index]
    dated, undated, authors = count_youtube_rows(path)

    run = import_export("csv", path, source="youtube", options=YOUTUBE_OPTIONS)

    assert run.status == "succeeded"
    assert Interaction.objects.count() == dated
    assert run.counts["created"]["comment"] == dated
    assert run.rejected_count == undated
    for rejected in run.rejected.all():
        assert "missing created_at: column 'DATE' is empty" in rejected.reason
    assert Identity.objects.count() == len(authors)
    assert set(Identity.objects.values_list("display_name", flat=True)) == authors
    assert set(Interaction.objects.values_list("kind", flat=True)) == {"comment"}
    assert list(Channel.objects.values_list("external_id", flat=True)) == ["psy"]
    # Comments start no conversation of their own.
    assert not Conversation.objects.exists()

    with path.open(encoding="utf-8-sig", newline="") as f:
        first = next(row for row in csv.DictReader(f) if row["DATE"].strip())
    comment = Interaction.objects.get(external_id=first["COMMENT_ID"])
    assert comment.text == first["CONTENT"]
    assert comment.raw == first
    assert comment.created_at == datetime.fromisoformat(first["DATE"]).replace(tzinfo=UTC)


@pytest.mark.django_db
def test_it_adds_nothing_on_reimport(shared_data: Path) -> None:
    path = youtube_files(shared_data)[0]
    import_export("csv", path, source="youtube", options=YOUTUBE_OPTIONS)
    counts = (Interaction.objects.count(), Identity.objects.count(), Channel.objects.count())

    run = import_export("csv", path, source="youtube", options=YOUTUBE_OPTIONS)

    assert run.counts["created"] == {}
    assert run.counts["updated"] == {}
    assert (Interaction.objects.count(), Identity.objects.count(), Channel.objects.count()) == (
        counts
    )


@pytest.mark.django_db
def test_it_reads_a_mapping_file_with_time_format_and_timezone() -> None:
    run = import_export("csv", FORUM_CSV, options={"mapping": str(FORUM_MAPPING)})

    assert sorted(Interaction.objects.values_list("external_id", flat=True)) == ["c1", "c2", "c7"]
    c1 = Interaction.objects.get(external_id="c1")
    # 14:30 in Paris in winter is 13:30 UTC.
    assert c1.created_at == datetime(2024, 2, 3, 13, 30, tzinfo=UTC)
    assert c1.kind == InteractionKind.POST
    assert c1.channel is not None and c1.channel.external_id == "forum"
    c2 = Interaction.objects.get(external_id="c2")
    assert c2.text == "Hi Alice,\nwelcome!"
    assert c2.parent == c1
    assert c2.conversation == c1.conversation
    assert c1.conversation is not None and c1.conversation.title == "Introductions"
    assert Conversation.objects.get(external_id="t2").title == "Second thread"

    rejected = {r.location: r for r in run.rejected.all()}
    assert set(rejected) == {
        "forum-comments.csv line 5",
        "forum-comments.csv line 6",
        "forum-comments.csv line 7",
        "forum-comments.csv line 8",
    }
    assert (
        "missing created_at: column 'Posted' is empty"
        in rejected["forum-comments.csv line 5"].reason
    )
    assert "does not match time_format '%d/%m/%Y %H:%M'" in (
        rejected["forum-comments.csv line 6"].reason
    )
    shout = rejected["forum-comments.csv line 7"]
    assert "unknown kind 'shout'" in shout.reason and "comment" in shout.reason
    assert json.loads(shout.excerpt)["Body"] == "a strange kind"
    assert "no author" in rejected["forum-comments.csv line 8"].reason


@pytest.mark.django_db
def test_it_locates_a_multi_line_row_by_its_lines(tmp_path: Path) -> None:
    path = tmp_path / "multi.csv"
    path.write_text(
        'id,created_at,author_id,text\n1,2024-01-01,a,"one\ntwo"\n2,never,b,x\n3,never,c,"a\nb"\n'
    )

    run = import_export("csv", path)

    assert Interaction.objects.get(external_id="1").text == "one\ntwo"
    assert [r.location for r in run.rejected.all()] == ["multi.csv line 4", "multi.csv lines 5-6"]


@pytest.mark.django_db
def test_it_lets_map_options_win_over_the_mapping_file() -> None:
    run = import_export(
        "csv",
        FORUM_CSV,
        options={
            "mapping": str(FORUM_MAPPING),
            "map.text": "User",
            "map.kind": "",
            "kind": "comment",
            "timezone": "UTC",
        },
    )

    c1 = Interaction.objects.get(external_id="c1")
    assert c1.text == "alice"
    assert c1.kind == InteractionKind.COMMENT
    assert c1.created_at == datetime(2024, 2, 3, 14, 30, tzinfo=UTC)
    # With no kind column, the strange kind no longer matters: only 3 rows are rejected.
    assert run.rejected_count == 3


@pytest.mark.django_db
def test_it_imports_jsonl_with_the_default_mapping() -> None:
    run = import_export("jsonl", COMMUNITY_JSONL)

    assert sorted(Interaction.objects.values_list("external_id", flat=True)) == ["4", "m1", "m2"]
    m1, m2 = Interaction.objects.get(external_id="m1"), Interaction.objects.get(external_id="m2")
    assert m1.identity is not None and m1.identity.display_name == "Ann"
    assert m2.identity is not None and m2.identity.handle == "bo"
    assert m2.created_at == datetime(2024, 3, 1, 11, 0, tzinfo=UTC)  # epoch milliseconds
    assert m2.parent == m1
    assert m1.conversation is not None and m1.conversation.title == "Welcome"
    assert m2.conversation == m1.conversation
    assert Channel.objects.get(external_id="general").name == "General"
    # Keys match fields in any case; an email identifies an author without id.
    row4 = Interaction.objects.get(external_id="4")
    assert row4.text == "keys in any case"
    assert row4.created_at == datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    assert row4.identity is not None and row4.identity.external_id == "cy@example.org"
    assert row4.identity.is_bot
    # A message with no thread starts its own conversation.
    assert row4.conversation is not None and row4.conversation.external_id == "4"
    assert run.counts["created"]["conversation"] == 2


@pytest.mark.django_db
def test_it_rejects_bad_jsonl_lines_with_their_line_number() -> None:
    run = import_export("jsonl", COMMUNITY_JSONL)

    reasons = {r.location: r.reason for r in run.rejected.all()}
    assert reasons["community.jsonl line 4"].startswith("line 4: expected a JSON object")
    assert reasons["community.jsonl line 5"] == "line 5: expected a JSON object, got a list"
    assert "'yesterday' is not a time: expected ISO 8601" in reasons["community.jsonl line 6"]
    assert "text (column 'text') must be text, got an object" in reasons["community.jsonl line 8"]
    assert len(reasons) == 4


@pytest.mark.django_db
def test_it_maps_nested_jsonl_keys_and_allows_anonymous_rows(tmp_path: Path) -> None:
    path = tmp_path / "nested.jsonl"
    lines = [
        {"uid": "a", "at": "2024-05-01T10:00:00+02:00", "who": {"name": "Zoe"}, "body": "hi"},
        {"uid": "b", "at": "2024-05-01T11:00:00+02:00", "body": "anonymous"},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    options = {
        "map.id": "uid",
        "map.created_at": "at",
        "map.author_name": "who.name",
        "map.text": "body",
        "allow_anonymous": "true",
    }

    run = import_export("jsonl", path, options=options)

    assert run.rejected_count == 0
    a = Interaction.objects.get(external_id="a")
    assert a.identity is not None and a.identity.display_name == "Zoe"
    assert a.created_at == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert Interaction.objects.get(external_id="b").identity is None


@pytest.mark.django_db
def test_it_applies_an_edited_text_on_reimport(tmp_path: Path) -> None:
    path = tmp_path / "forum-comments.csv"
    shutil.copy(FORUM_CSV, path)
    options = {"mapping": str(FORUM_MAPPING)}
    import_export("csv", path, source="forum", options=options)
    path.write_text(path.read_text().replace("Second thread", "Second thread (edited)"))

    run = import_export("csv", path, source="forum", options=options)

    assert run.counts["created"] == {}
    # The thread had no title of its own: it takes its first post's new first line.
    assert run.counts["updated"] == {"post": 1, "conversation": 1}
    assert Interaction.objects.get(external_id="c7").text == "Second thread (edited)"
    assert Conversation.objects.get(external_id="t2").title == "Second thread (edited)"
    assert Interaction.objects.count() == 3


def test_it_parses_epochs_iso_and_custom_formats() -> None:
    utc, paris = ZoneInfo("UTC"), ZoneInfo("Europe/Paris")
    expected = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    assert parse_time(1709287200, "", utc) == expected
    assert parse_time(1709287200000, "", utc) == expected
    assert parse_time("1709287200000", "", utc) == expected
    assert parse_time("1709287200.5", "", utc) == expected.replace(microsecond=500000)
    assert parse_time("2024-03-01T10:00:00Z", "", paris) == expected
    assert parse_time("2024-03-01T11:00:00", "", paris) == expected
    assert parse_time("01/03/2024 11h00", "%d/%m/%Y %Hh%M", paris) == expected
    assert parse_time("01/03/2024 10h00 +0000", "%d/%m/%Y %Hh%M %z", paris) == expected
    with pytest.raises(ValueError, match="does not match time_format"):
        parse_time("2024-03-01", "%d/%m/%Y", utc)
    with pytest.raises(ValueError, match="expected ISO 8601"):
        parse_time("next tuesday", "", utc)
    with pytest.raises(ValueError, match="out of the range"):
        parse_time(10**30, "", utc)
    with pytest.raises(ValueError, match="got a boolean"):
        parse_time(True, "", utc)


@pytest.mark.django_db
def test_it_reads_epoch_milliseconds_in_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "epoch.tsv"
    path.write_text("ID\tCreated_At\tAuthor_Handle\n1\t1709287200000\tann\n")

    import_export("csv", path)

    assert Interaction.objects.get().created_at == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_it_refuses_an_unknown_field_in_a_mapping_file(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"fields": {"id": "Comment ID", "body": "Body"}}))

    with pytest.raises(ImportFormatError) as e:
        import_export("csv", FORUM_CSV, options={"mapping": str(mapping)})

    message = str(e.value)
    assert str(mapping) in message
    assert "unknown field 'body'" in message
    assert "valid fields: id, created_at, text" in message


def test_it_refuses_an_unknown_field_in_a_map_option() -> None:
    with pytest.raises(ImportFormatError, match="unknown field 'body' in --map body=Body"):
        import_export("csv", FORUM_CSV, options={"map.body": "Body"})


@pytest.mark.django_db
def test_it_refuses_a_mapped_column_missing_from_the_header() -> None:
    with pytest.raises(ImportFormatError) as e:
        import_export(
            "csv", FORUM_CSV, options={"mapping": str(FORUM_MAPPING), "map.text": "Content"}
        )

    message = str(e.value)
    assert message.startswith(f"{FORUM_CSV}:line 1: no column 'Content' (mapped to text)")
    assert "columns found: 'Comment ID', 'User'" in message


@pytest.mark.django_db
def test_it_refuses_a_csv_without_the_required_columns(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("name;date;message\nann;2024-01-01;hi\n")

    with pytest.raises(ImportFormatError, match=r"line 1: no column for the required field id"):
        import_export("csv", path)


@pytest.mark.django_db
def test_it_refuses_an_empty_csv(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("\n\n")

    with pytest.raises(ImportFormatError, match=r"empty.csv:line 1: expected a header row"):
        import_export("csv", path)


@pytest.mark.django_db
def test_it_refuses_a_csv_in_another_encoding_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("id,created_at,author_name,text\n1,2024-01-01,Zoé,café\n".encode("latin-1"))

    with pytest.raises(ImportFormatError, match=r"latin.csv:line 2: expected text in utf-8-sig"):
        import_export("csv", path)
    run = import_export("csv", path, options={"encoding": "latin-1"})
    assert run.rejected_count == 0
    assert Interaction.objects.get().text == "café"


@pytest.mark.django_db
def test_it_refuses_a_json_array_given_as_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "array.jsonl"
    path.write_text('[\n  {"id": 1}\n]\n')

    with pytest.raises(ImportFormatError, match=r"array.jsonl:line 1: expected JSON Lines"):
        import_export("jsonl", path)


def test_it_refuses_bad_options() -> None:
    with pytest.raises(ImportFormatError, match="unknown timezone 'Mars/Olympus'"):
        import_export("csv", FORUM_CSV, options={"timezone": "Mars/Olympus"})
    with pytest.raises(ImportFormatError, match="unknown kind 'shout'; expected one of: post"):
        import_export("csv", FORUM_CSV, options={"kind": "shout"})
    with pytest.raises(ImportFormatError, match="unknown option delimiter"):
        import_export("jsonl", COMMUNITY_JSONL, options={"delimiter": ";"})
    with pytest.raises(ImportFormatError, match="no such mapping file"):
        import_export("csv", FORUM_CSV, options={"mapping": "/nonexistent/mapping.json"})


@pytest.mark.django_db
def test_it_imports_through_the_cli(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = youtube_files(shared_data)[0]
    dated, undated, _authors = count_youtube_rows(path)

    call_command(
        "import", "csv", str(path), "--source", "Psy",
        "--map", "id=COMMENT_ID", "--map", "author_name=AUTHOR",
        "--map", "created_at=DATE", "--map", "text=CONTENT",
        "--option", "kind=comment", "--option", "channel=psy", "--no-progress",
    )  # fmt: skip

    out = capsys.readouterr().out
    assert "into Psy" in out
    assert f"{undated} rejected" in out
    assert Interaction.objects.filter(kind="comment", channel__external_id="psy").count() == dated

    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"fields": {"id": "COMMENT_ID", "txt": "CONTENT"}}))
    with pytest.raises(CommandError, match="unknown field 'txt'"):
        call_command("import", "csv", str(path), "--mapping", str(mapping))
