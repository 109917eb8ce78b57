"""Property-based checks of the GET operations against the live OpenAPI schema: schemathesis
generates requests from the schema, sends them to the WSGI app in this process (no network),
and checks there is no 5xx and that each response conforms to the schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from townsquare.api.services import do_create_token
from townsquare.api.tests.conftest import BASE, Community, at
from townsquare.community.models import Note, Touchpoint
from townsquare.segments.services import do_save_segment

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

# Per strategy below: about 180 requests in all, a few seconds.
EXAMPLES = 10


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
    alice: User, community: Community
) -> None:
    Note.objects.create(member=community.ada, author=alice, text="<b>hi</b>")
    Touchpoint.objects.create(member=community.ada, staff=alice, happened_at=at(3))
    segment = do_save_segment(
        name="Speakers", filters={"tag": str(community.speaker.pk)}, actor=alice
    )
    key = do_create_token(user=alice, name="schemathesis")[1]
    headers = {"Authorization": f"Bearer {key}"}
    schema = schemathesis.openapi.from_wsgi(f"{BASE}/openapi.json", WSGIHandler())
    fixed = {
        "member_id": community.ada.pk,
        "identity_id": community.ada.identities.order_by("id")[0].pk,
        "segment_id": segment.pk,
    }
    strategies = []
    for result in schema.include(method="GET").get_all_operations():
        operation = result.ok()
        # Ids drawn at random (mostly 404s), and real ones, so the query parameters meet data.
        strategies.append(operation.as_strategy())
        names = {p.name for p in operation.path_parameters}
        if names:
            strategies.append(operation.as_strategy(path_parameters={n: fixed[n] for n in names}))
    assert len(strategies) == 18  # 10 GET operations, 8 of them with an id in their path

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
