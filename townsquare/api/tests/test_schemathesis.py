"""Property-based checks of the GET operations and the care queue's actions against the live
OpenAPI schema: schemathesis generates requests from the schema, sends them to the WSGI app in
this process (no network), and checks there is no 5xx and that each response conforms to the
schema."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from townsquare.api.services import do_create_token
from townsquare.api.tests.conftest import BASE, Community, Talk, at
from townsquare.community.models import Note, Touchpoint
from townsquare.segments.services import do_save_segment

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

# Per strategy below: about 400 requests in all, some twenty seconds.
EXAMPLES = 10
# Writes checked too: each acts on one care item, which the first resolve or dismiss closes
# (later ones are then conflicts, which the schema describes as well).
CARE_ACTIONS = re.compile(r"/care-items/\{item_id\}/(assign|snooze|resolve|dismiss)$")
# Where a request the schema allows may still be refused, as documented: a filter no index
# serves without a short window, since after until, an option the metric does not take, a
# snooze in the past, someone who cannot work the queue.
CHECKED_BEYOND_THE_SCHEMA = (
    r"/(interactions|conversations|alerts|metrics/\{name\})$"
    r"|/care-items/\{item_id\}/(assign|snooze|resolve|dismiss)$"
)


@pytest.fixture
def keep_connection() -> Iterator[None]:
    """As Django's test client does: the test's transaction must outlive each request, so
    requests do not close the database connection."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.mark.usefixtures("keep_connection")
def test_it_answers_generated_requests_as_its_schema_says(
    alice: User, community: Community, talk: Talk
) -> None:
    Note.objects.create(member=community.ada, author=alice, text="<b>hi</b>")
    Touchpoint.objects.create(member=community.ada, staff=alice, happened_at=at(3))
    segment = do_save_segment(
        name="Speakers", filters={"tag": str(community.speaker.pk)}, actor=alice
    )
    key = do_create_token(user=alice, name="schemathesis")[1]
    headers = {"Authorization": f"Bearer {key}"}
    refusals = ["2xx", "3xx", "401", "403", "404", "409", "422"]
    config = schemathesis.config.SchemathesisConfig.from_dict(
        {
            "operations": [
                {
                    "include-path-regex": CHECKED_BEYOND_THE_SCHEMA,
                    "checks": {"positive_data_acceptance": {"expected-statuses": refusals}},
                }
            ]
        }
    )
    schema = schemathesis.openapi.from_wsgi(f"{BASE}/openapi.json", WSGIHandler(), config=config)
    fixed = {
        "member_id": community.ada.pk,
        "identity_id": community.ada.identities.order_by("id")[0].pk,
        "segment_id": segment.pk,
        "interaction_id": talk.asked.pk,
        "conversation_id": talk.question.pk,
        "item_id": talk.item.pk,
        "alert_id": talk.alert.pk,
        "name": "ttfr",
    }
    strategies = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET" and not CARE_ACTIONS.search(operation.path):
            continue
        # Ids drawn at random (mostly 404s), and real ones, so the query parameters meet data.
        strategies.append(operation.as_strategy())
        names = {p.name for p in operation.path_parameters}
        if names:
            strategies.append(operation.as_strategy(path_parameters={n: fixed[n] for n in names}))
    # 20 GET operations, 13 of them with an id or a name in their path; 4 care actions
    assert len(strategies) == 41

    def check(case: Any) -> None:
        case.call_and_validate(headers=headers)

    run = hypothesis.settings(
        max_examples=EXAMPLES * len(strategies),
        deadline=None,
        database=None,
        derandomize=True,  # the same requests on every run: a failure is reproducible
        suppress_health_check=list(hypothesis.HealthCheck),
    )(hypothesis.given(case=hypothesis.strategies.one_of(strategies))(check))
    run()
