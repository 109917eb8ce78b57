"""The enrichment pipeline on real and small hand-made imports."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone
from django_tasks import task_backends
from django_tasks.backends.dummy import DummyBackend

from townsquare.community.models import Interaction, InteractionKind, Member
from townsquare.connectors.models import ImportRun
from townsquare.connectors.slack.tests.export import write_slack_export
from townsquare.lib.mail import own_words
from townsquare.lib.testing import import_export
from townsquare.listening import pipeline
from townsquare.listening.analyzers.base import TextItem
from townsquare.listening.analyzers.registry import ANALYZERS, get_analyzer
from townsquare.listening.models import Enrichment, TermMatch, Thanks, TrackedTerm
from townsquare.listening.pipeline import (
    COLUMNS,
    TEXT_KINDS,
    count_stale,
    current_versions,
    enrich_pending,
    find_stale,
    html_to_text,
    version_key,
)
from townsquare.listening.services import do_track_term
from townsquare.listening.tasks import enqueue_after_import

pytestmark = pytest.mark.django_db

USERS = [
    {"id": "U1", "name": "ada", "profile": {"real_name": "Ada"}},
    {"id": "U2", "name": "bob", "profile": {"real_name": "Bob"}},
    {"id": "U3", "name": "cleo", "profile": {"real_name": "Cleo"}},
]


@pytest.fixture(autouse=True)
def no_background_tasks(settings: Any) -> None:
    """Imports queue enrichment; these tests run it themselves."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def message(ts: int, user: str, text: str, thread: int | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {"type": "message", "user": user, "text": text, "ts": f"{ts}.000100"}
    if thread is not None:
        m["thread_ts"] = f"{thread}.000100"
    return m


def import_messages(root: Path, messages: list[dict[str, Any]]) -> None:
    import_export("slack", write_slack_export(root, {"general": messages}, USERS), source="t")


def enrichment_of(text: str) -> Enrichment:
    return Enrichment.objects.get(interaction__text=text)


def member(handle: str) -> Member:
    return Member.objects.get(identities__handle=handle)


def test_it_enriches_every_interaction_of_a_real_import(shared_data: Path) -> None:
    root = shared_data / "slack_houstondatavis"
    import_export("slack", root)
    total = Interaction.objects.filter(kind__in=TEXT_KINDS).count()

    stats = enrich_pending(batch_size=300)

    key = version_key(current_versions())
    assert stats.interactions == total == Enrichment.objects.filter(version_key=key).count()
    worded = Interaction.objects.filter(kind__in=TEXT_KINDS).exclude(text="")
    assert stats.analyzed == Enrichment.objects.filter(analyzed=True).count() == worded.count()
    # Joins and reactions carry no words of their own: nothing to enrich, no row, and nothing
    # left stale for the next run.
    joins = Interaction.objects.filter(kind=InteractionKind.JOIN)
    assert joins.exists()
    assert not Enrichment.objects.exclude(interaction__kind__in=TEXT_KINDS).exists()
    assert count_stale() == 0
    assert enrich_pending().interactions == 0
    # Where the pipeline's own time went, stage by stage, within the run's time.
    stages = stats.stage_seconds
    assert set(stages) == {"finding", "reading", "writing", "inbox", "rollups"}
    assert all(seconds > 0 for seconds in stages.values())
    assert sum(stages.values()) + stats.analyzers_total <= stats.seconds
    # Every analyzer's version is recorded on every row.
    assert Enrichment.objects.first().versions == current_versions()  # type: ignore[union-attr]
    # An English-speaking workspace: nearly every text with a language (not just a link or
    # an emoji) judged English, and every English text has a sentiment.
    detected = Enrichment.objects.filter(analyzed=True, language__isnull=False).count()
    english = Enrichment.objects.filter(analyzed=True, language="en").count()
    assert detected > 0.6 * stats.analyzed
    assert english > 0.9 * detected
    assert Enrichment.objects.filter(language="en", sentiment__isnull=True).count() == 0
    # Questions are found where people ask: most texts ending in "?" are flagged.
    asking = list(Enrichment.objects.filter(analyzed=True).select_related("interaction"))
    ending = [e for e in asking if e.interaction.text.rstrip().endswith("?")]
    assert ending
    assert sum(e.is_question for e in ending) > 0.7 * len(ending)


def test_it_does_nothing_the_second_time(tmp_path: Path) -> None:
    import_messages(tmp_path, [message(1_700_000_000, "U1", "How do I make a bar chart?")])
    assert enrich_pending().interactions == 1
    assert find_stale(100) == []

    again = enrich_pending()

    assert again.interactions == 0
    assert again.analyzed == 0


def test_a_run_hides_the_heap_from_the_collector_and_hands_it_back(tmp_path: Path) -> None:
    import_messages(
        tmp_path,
        [message(1_700_000_000, "U1", "How do I make a bar chart?"),
         message(1_700_000_060, "U2", "Thanks, that worked!")],
    )  # fmt: skip
    assert gc.get_freeze_count() == 0
    during: list[int] = []

    enrich_pending(progress=lambda done, total: during.append(gc.get_freeze_count()))

    assert during and all(count > 0 for count in during)
    assert gc.get_freeze_count() == 0


def test_a_failed_run_hands_the_heap_back_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_messages(tmp_path, [message(1_700_000_000, "U1", "How do I make a bar chart?")])

    def broken(texts: list[str], languages: list[str | None]) -> Any:
        assert gc.get_freeze_count() > 0
        raise RuntimeError("an analyzer failed")

    monkeypatch.setattr(pipeline, "analyze_texts", broken)

    with pytest.raises(RuntimeError, match="an analyzer failed"):
        enrich_pending()
    assert gc.get_freeze_count() == 0


def test_an_analyzer_process_freezes_what_it_holds_after_its_first_batch() -> None:
    assert gc.get_freeze_count() == 0
    try:
        results, seconds = pipeline.analyze_in_worker(["Is the meetup on Friday?"], [None])
        frozen = gc.get_freeze_count()
        pipeline.analyze_in_worker(["Thanks a lot!"], [None])

        assert results[0]["question"]["is_question"] is True
        assert set(seconds) == set(ANALYZERS)
        assert frozen > 0
        # Once: a later batch's objects are not frozen (frozen ones may still be freed).
        assert gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()  # this test's process is not an analyzer process


def test_it_re_enriches_rows_made_by_an_older_analyzer_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_messages(
        tmp_path,
        [message(1_700_000_000 + i, "U1", f"Message number {i} is great") for i in range(5)],
    )
    enrich_pending()
    old_key = version_key(current_versions())
    sentiment = type(get_analyzer("sentiment"))

    monkeypatch.setattr(sentiment, "version", sentiment.version + "-next")

    new_key = version_key(current_versions())
    assert new_key != old_key
    assert len(find_stale(100)) == 5
    stats = enrich_pending()
    assert stats.interactions == 5
    assert set(Enrichment.objects.values_list("version_key", flat=True)) == {new_key}
    assert all(e.versions["sentiment"] == sentiment.version for e in Enrichment.objects.all())
    assert find_stale(100) == []


def test_it_re_enriches_an_edited_interaction(tmp_path: Path) -> None:
    import_messages(tmp_path, [message(1_700_000_000, "U1", "The new release is wonderful")])
    enrich_pending()
    assert enrichment_of("The new release is wonderful").sentiment_label == "positive"

    # What a re-import of an edited message does: new text, new content digest.
    Interaction.objects.update(text="The new release is awful and broken", content_hash="edited")

    assert len(find_stale(10)) == 1
    enrich_pending()
    assert enrichment_of("The new release is awful and broken").sentiment_label == "negative"


def test_it_rebuilds_everything_on_request(tmp_path: Path) -> None:
    import_messages(tmp_path, [message(1_700_000_000 + i, "U1", f"hello {i}") for i in range(3)])
    enrich_pending()
    before = dict(Enrichment.objects.values_list("interaction_id", "enriched_at"))

    stats = enrich_pending(rebuild=True)

    assert stats.interactions == 3
    after = dict(Enrichment.objects.values_list("interaction_id", "enriched_at"))
    assert all(after[i] >= before[i] for i in before)


def test_it_leaves_interactions_without_words_alone(tmp_path: Path) -> None:
    liked = message(1_700_000_000, "U1", "Release notes are out")
    liked["reactions"] = [{"name": "tada", "users": ["U2", "U3"], "count": 2}]
    import_messages(tmp_path, [liked, message(1_700_000_100, "U2", "")])
    reactions = Interaction.objects.filter(kind=InteractionKind.REACTION)
    assert reactions.count() == 2

    stats = enrich_pending()
    again = enrich_pending(rebuild=True)

    # The message and the empty one get a row (the empty one unanalyzed); the reactions none,
    # neither on the first run nor on a rebuild.
    assert stats.interactions == again.interactions == 2
    assert stats.analyzed == 1
    assert not Enrichment.objects.filter(interaction__in=reactions).exists()
    assert find_stale(10) == []


def test_the_migration_drops_the_rows_of_interactions_without_words(tmp_path: Path) -> None:
    from importlib import import_module

    from django.db import connection

    migration = import_module("townsquare.listening.migrations.0004_no_enrichment_without_words")
    liked = message(1_700_000_000, "U1", "Release notes are out")
    liked["reactions"] = [{"name": "tada", "users": ["U2", "U3"], "count": 2}]
    import_messages(tmp_path, [liked])
    enrich_pending()
    first, second = Interaction.objects.filter(kind=InteractionKind.REACTION).order_by("id")
    # As an earlier version left them: a row with no labels for each reaction, one corrected.
    versions = current_versions()
    for reaction, corrected in ((first, []), (second, ["is_spam"])):
        Enrichment.objects.create(
            interaction=reaction,
            versions=versions,
            version_key=version_key(versions),
            content_hash=reaction.content_hash,
            corrected=corrected,
            is_spam=bool(corrected),
            enriched_at=timezone.now(),
        )

    # The migration uses its schema editor's connection only (SQLite refuses a schema editor
    # inside the test's transaction).
    migration.delete_rows(None, SimpleNamespace(connection=connection))

    kept = set(Enrichment.objects.values_list("interaction__kind", "interaction_id"))
    assert kept == {
        (InteractionKind.MESSAGE, enrichment_of("Release notes are out").pk),
        (InteractionKind.REACTION, second.pk),
    }


def test_it_credits_thanks_to_the_author_replied_to(tmp_path: Path) -> None:
    root, answer = 1_700_000_000, 1_700_000_060
    import_messages(
        tmp_path,
        [
            message(root, "U1", "How do I rotate the axis labels in d3?"),
            message(answer, "U2", "Use .attr('transform', 'rotate(-45)') on the ticks", root),
            message(answer + 60, "U1", "thanks!", root),
        ],
    )

    enrich_pending()

    assert enrichment_of("thanks!").is_gratitude
    thanks = Thanks.objects.get()
    assert thanks.from_member == member("ada")
    # Every reply of a Slack thread points at the thread's first message, here Ada's own: the
    # thanks go to the one who answered her.
    assert thanks.to_member == member("bob")


def test_it_credits_thanks_to_the_author_of_the_parent(tmp_path: Path) -> None:
    root = 1_700_000_000
    import_messages(
        tmp_path,
        [
            message(root, "U2", "Slides of yesterday's talk: https://example.org/slides"),
            message(root + 60, "U3", "Thanks a lot, very useful", root),
        ],
    )

    enrich_pending()

    thanks = Thanks.objects.get()
    assert (thanks.from_member, thanks.to_member) == (member("cleo"), member("bob"))


def test_it_credits_thanks_to_the_member_mentioned(tmp_path: Path) -> None:
    root = 1_700_000_000
    import_messages(
        tmp_path,
        [
            message(root, "U1", "Where can I find the slides from last meetup?"),
            message(root + 60, "U2", "They are in the #datasets channel", root),
            message(root + 120, "U1", "Thank you <@U2>, found them", root),
            message(root + 180, "U3", "thanks @ada for asking and @bob for answering"),
        ],
    )

    enrich_pending()

    credited = {(t.from_member, t.to_member) for t in Thanks.objects.all()}
    assert credited == {
        (member("ada"), member("bob")),
        (member("cleo"), member("ada")),
        (member("cleo"), member("bob")),
    }
    message_time = Interaction.objects.get(text__startswith="Thank you").created_at
    assert Thanks.objects.get(from_member=member("ada")).created_at == message_time


def test_it_never_credits_someone_for_thanking_themselves(tmp_path: Path) -> None:
    root = 1_700_000_000
    import_messages(
        tmp_path,
        [
            message(root, "U1", "Does anyone know a good colour palette for maps?"),
            message(root + 60, "U1", "Never mind, found one. Thanks anyway!", root),
            message(root + 120, "U2", "thanks <@U2>, note to self: check the logs"),
        ],
    )

    enrich_pending()

    assert enrichment_of("Never mind, found one. Thanks anyway!").is_gratitude
    assert not Thanks.objects.exists()


def test_it_replaces_thanks_when_re_enriched(tmp_path: Path) -> None:
    root = 1_700_000_000
    import_messages(
        tmp_path,
        [
            message(root, "U1", "Any tips for a first talk?"),
            message(root + 60, "U2", "thank you so much, great question", root),
        ],
    )
    enrich_pending()
    assert Thanks.objects.count() == 1

    enrich_pending(rebuild=True)

    assert Thanks.objects.count() == 1


def test_it_matches_tracked_terms_while_enriching(tmp_path: Path) -> None:
    TrackedTerm.objects.create(term="Tableau", kind="brand")
    TrackedTerm.objects.create(term="#dataviz", kind="hashtag")
    TrackedTerm.objects.create(term="open data", kind="keyword")
    import_messages(
        tmp_path,
        [
            message(1_700_000_000, "U1", "Anyone using TABLEAU public for this?"),
            message(1_700_000_060, "U2", "Tableaux are not the same thing"),
            message(1_700_000_120, "U3", "Posted my chart with #dataviz and #DataViz2024"),
            message(1_700_000_180, "U1", "The city published its Open   Data portal"),
            message(1_700_000_240, "U2", "dataviz without the hash is not the hashtag"),
        ],
    )

    enrich_pending()

    found = {(m.term.term, m.interaction.text) for m in TermMatch.objects.all()}
    assert found == {
        ("Tableau", "Anyone using TABLEAU public for this?"),
        ("#dataviz", "Posted my chart with #dataviz and #DataViz2024"),
        ("open data", "The city published its Open   Data portal"),
    }


def test_it_matches_a_new_term_against_existing_interactions(
    tmp_path: Path, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    import_messages(
        tmp_path,
        [
            message(1_700_000_000, "U1", "We should try Observable notebooks"),
            message(1_700_000_060, "U2", "observable is great for d3"),
            message(1_700_000_120, "U3", "unobservable things"),
        ],
    )
    enrich_pending()
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

    with django_capture_on_commit_callbacks(execute=True):
        term = do_track_term(term="Observable", kind="brand", user=None)

    texts = set(TermMatch.objects.filter(term=term).values_list("interaction__text", flat=True))
    assert texts == {"We should try Observable notebooks", "observable is great for d3"}


def test_it_marks_sentiment_unsupported_for_other_languages(tmp_path: Path) -> None:
    texts = {
        "fr": "Merci beaucoup pour votre aide, c'est vraiment une excellente présentation",
        "es": "No me gusta nada este cambio, la nueva versión es mucho peor que la anterior",
        "ja": "このライブラリはとても使いやすくて素晴らしいと思います",
        "en": "This library is really easy to use and I love the documentation",
    }
    import_messages(
        tmp_path, [message(1_700_000_000 + i, "U1", t) for i, t in enumerate(texts.values())]
    )

    enrich_pending()

    for language, text in texts.items():
        e = enrichment_of(text)
        assert e.language == language
        if language == "en":
            assert e.sentiment_label == "positive"
            assert e.sentiment is not None and e.sentiment > 0
        else:
            assert e.sentiment_label == "unsupported"
            assert e.sentiment is None


def test_it_analyzes_the_text_of_html_bodies(shared_data: Path) -> None:
    import_export("stackexchange", shared_data / "stackexchange_conlang_meta")

    enrich_pending()

    html_rows = Enrichment.objects.filter(analyzed=True, interaction__text__contains="<p>")
    assert html_rows.exists()
    for e in html_rows:
        # Keywords come from the words, not from tags or entities.
        assert not {"p", "href", "amp", "quot", "nbsp"} & set(" ".join(e.keywords).split())
    # Markup does not confuse language identification: an English-language site reads English.
    english = html_rows.filter(language="en").count()
    assert english >= 0.95 * html_rows.count()


def test_it_turns_html_into_text() -> None:
    body = (
        "<p>First paragraph &amp; more.</p><p>Second<br>line</p>"
        "<pre><code>x = a?b:c</code></pre><script>alert(1)</script>"
        "<p>Use <code>len()</code> here</p>"
    )

    text = html_to_text(body)

    assert "First paragraph & more." in text
    assert "more.Second" not in text  # paragraphs do not run together
    assert "alert" not in text
    # Code ends up fenced or in backticks, which every analyzer skips.
    assert "```\nx = a?b:c\n```" in text
    assert "`len()`" in text
    assert "<" not in text


def test_it_records_every_analyzer_in_the_versions() -> None:
    versions = current_versions()

    assert set(versions) == {*ANALYZERS, "pipeline"}
    assert version_key(versions) == version_key(dict(reversed(list(versions.items()))))
    assert json.dumps(versions)  # stored as JSON


def test_it_writes_each_result_in_its_own_column() -> None:
    # _analyzed_row builds a row in the order of COLUMNS without naming them: every value
    # must land in the column of its name.
    result: dict[str, dict[str, Any]] = {
        "language": {"language": "fr", "confidence": 0.93},
        "sentiment": {"compound": -0.42, "label": "negative"},
        "question": {"is_question": True, "score": 0.81},
        "gratitude": {"is_gratitude": True, "score": 0.9, "mentions": []},
        "emotion": {"label": "anger", "scores": {"joy": 0.1, "anger": 0.7}},
        "toxicity": {"score": 0.35, "flag": False},
        "spam": {"score": 0.97, "flag": True},
        "keywords": {"keywords": ["carte graphique", "pilote"]},
    }
    row = SimpleNamespace(id=7, member_id=3, content_hash="abc")
    written = pipeline._analyzed_row(row, result, ('{"a":"1"}', "key"), "2026-11-24 10:00:00")  # type: ignore[arg-type]
    assert dict(zip(COLUMNS, written, strict=True)) == {
        "interaction_id": 7,
        "member_id": 3,
        "analyzed": True,
        "language": "fr",
        "language_confidence": 0.93,
        "sentiment": -0.42,
        "sentiment_label": "negative",
        "is_question": True,
        "question_score": 0.81,
        "is_gratitude": True,
        "emotion": "anger",
        "emotion_scores": '{"anger":0.7,"joy":0.1}',
        "toxicity": 0.35,
        "is_toxic": False,
        "spam": 0.97,
        "is_spam": True,
        "keywords": '["carte graphique","pilote"]',
        "versions": '{"a":"1"}',
        "version_key": "key",
        "content_hash": "abc",
        "corrected": "[]",
        "enriched_at": "2026-11-24 10:00:00",
    }


def test_it_gives_the_same_results_with_worker_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import townsquare.listening.pipeline as pipeline

    topics = ("the new chart library", "our meetup venue", "the data jam", "the API docs")
    moods = ("is great, thanks a lot!", "is broken again and I hate it", "how do I use it?")
    import_messages(
        tmp_path,
        [
            message(1_700_000_000 + i, str(USERS[i % 3]["id"]), f"I think {t} {m}")
            for i, (t, m) in enumerate((t, m) for t in topics for m in moods)
        ],
    )
    enrich_pending(workers=1)
    columns = ("interaction_id", "language", "sentiment_label", "is_question", "keywords")
    alone = list(Enrichment.objects.order_by("interaction_id").values_list(*columns))
    monkeypatch.setattr(pipeline, "PARALLEL_FROM", 0)

    try:
        # As `townsquare worker` does when it starts: the processes up, their models loaded.
        assert pipeline.warm_up(2) > 0
        warmed = pipeline._POOLS[2]
        stats = enrich_pending(rebuild=True, workers=2, batch_size=4)
        assert pipeline._POOLS[2] is warmed  # the run used the processes already started
    finally:
        pipeline.shutdown_workers()

    assert stats.interactions == len(alone) == 12
    assert list(Enrichment.objects.order_by("interaction_id").values_list(*columns)) == alone


def test_the_enrichment_an_import_queues_reads_only_what_it_wrote(tmp_path: Path) -> None:
    first = [message(1_700_000_000, "U1", "Hello everyone"), message(1_700_000_100, "U2", "Hi")]
    import_messages(tmp_path / "a", first)
    enrich_pending()
    # An enrichment lost long ago (a failed task): the import's pass leaves it to the sweep.
    Enrichment.objects.filter(interaction__text="Hi").delete()
    moment = timezone.now()
    edited = {**first[0], "text": "Hello everyone, and welcome"}
    import_messages(tmp_path / "b", [edited, first[1], message(1_700_000_200, "U3", "New here")])

    stats = enrich_pending(since=moment)

    assert stats.interactions == 2  # the edited message and the new one
    assert enrichment_of("Hello everyone, and welcome") and enrichment_of("New here")
    assert not Enrichment.objects.filter(interaction__text="Hi").exists()
    assert enrich_pending().interactions == 1  # the sweep finds the lost one
    assert find_stale(10) == []
    # An import queues exactly that: its own rows, by the run's start.
    run = ImportRun.objects.order_by("-id").first()
    assert run is not None
    enqueue_after_import(run)
    backend = task_backends["default"]
    assert isinstance(backend, DummyBackend)
    assert backend.results[-1].kwargs == {"since": run.started_at.isoformat()}


def test_it_reads_a_mails_own_words() -> None:
    reply = (
        "Did you run R CMD check --as-cran first\r\n"
        "\r\n"
        "-- \r\n"
        "Jane Doe\r\n"
        "\r\n"
        "On Mon, 3 Jun 2024 10:00:00 +0200, Tom wrote:\r\n"
        "> Why does my package fail on Windows?\r\n"
        "> It builds fine here.\r\n"
    )
    assert own_words(reply) == "Did you run R CMD check --as-cran first"
    inline = "Tom wrote:\n> Which version?\n\n4.4.1.\n\n> And the OS?\nWindows 11.\n"
    assert "4.4.1." in own_words(inline) and "Windows 11." in own_words(inline)
    assert "Which version" not in own_words(inline)
    assert own_words("On Mon, Tom wrote:\n> only quoted\n").strip() == ""


def test_it_analyses_mail_without_what_it_quotes(shared_data: Path) -> None:
    archive = shared_data / "mbox_r_package_devel"
    import_export("mbox", archive / "2024q3.txt", source="r-package-devel")
    enrich_pending()
    replies = Interaction.objects.filter(text__contains="wrote:", text__regex=r"\n> ")
    assert replies.count() >= 50
    rows = Enrichment.objects.filter(interaction__in=replies, analyzed=True)
    # "wrote" and the quoted mail's words were every reply's top keywords.
    assert not any("wrote" in row.keywords for row in rows)
    # The labels are those of the reply's own words: a reply that quotes a question asks
    # nothing unless it asks itself.
    question = get_analyzer("question")
    checked = changed = 0
    for row in rows.select_related("interaction"):
        text = row.interaction.text
        own = question.analyze([TextItem(own_words(text), language="en")])[0]["is_question"]
        whole = question.analyze([TextItem(text, language="en")])[0]["is_question"]
        if row.language == "en":
            assert row.is_question == own
            checked += 1
            changed += own != whole
    assert checked >= 50 and changed >= 5
