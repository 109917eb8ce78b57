from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from townsquare.api.tests.conftest import Api, AssertNumQueries, Talk, at
from townsquare.community.models import Channel
from townsquare.listening.models import Alert, AlertMetric


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def ids(response: Any) -> list[int]:
    return [a["id"] for a in ok(response)["items"]]


@pytest.fixture
def more_alerts(alice: User, talk: Talk) -> list[Alert]:
    """A negative-share spike in #random on 8 March, acknowledged by alice; a community-wide
    toxic-share spike on 12 March."""
    random = Channel.objects.create(source=talk.help.source, external_id="C2", name="random")
    negative = Alert.objects.create(
        channel=random,
        metric=AlertMetric.NEGATIVE_SHARE,
        window_start=at(8),
        window_end=at(9),
        value=0.41,
        mean=0.12,
        std=0.05,
        k=2,
        message="Negative sentiment in #random on 8 Mar 2024 is 5.8σ above its 7-day norm.",
        acknowledged_by=alice,
        acknowledged_at=timezone.now(),
    )
    toxic = Alert.objects.create(
        metric=AlertMetric.TOXIC_SHARE,
        window_start=at(12),
        window_end=at(13),
        value=0.3,
        mean=0.0,
        std=0.0,
        k=2,
        message="Toxic messages on 12 Mar 2024: 30 % vs a flat 0 %.",
    )
    return [talk.alert, negative, toxic]


def test_it_lists_alerts_newest_first(
    alice: User, alice_api: Api, talk: Talk, more_alerts: list[Alert]
) -> None:
    volume, negative, toxic = more_alerts
    body = ok(alice_api.get("/alerts"))
    assert (body["count"], body["limit"], body["offset"]) == (3, 50, 0)
    assert [a["id"] for a in body["items"]] == [toxic.pk, negative.pk, volume.pk]
    first = body["items"][2]
    assert first["channel"] == {
        "id": volume.channel_id,
        "name": "help",
        "source_id": talk.help.source_id,
    }
    assert (first["metric"], first["value"], first["mean"], first["std"], first["k"]) == (
        "volume",
        40.0,
        10.0,
        3.0,
        2.0,
    )
    assert first["window_start"] == "2024-03-05T12:00:00Z"
    assert first["acknowledged_by"] is None
    assert body["items"][0]["channel"] is None
    assert body["items"][1]["acknowledged_by"] == {"id": alice.pk, "username": "alice"}
    assert ids(alice_api.get("/alerts", limit=1, offset=1)) == [negative.pk]


def test_it_filters_alerts(alice_api: Api, more_alerts: list[Alert]) -> None:
    volume, negative, toxic = more_alerts
    assert ids(alice_api.get("/alerts", channel=volume.channel_id)) == [volume.pk]
    assert ids(alice_api.get("/alerts", metric="toxic_share")) == [toxic.pk]
    assert ids(alice_api.get("/alerts", acknowledged=True)) == [negative.pk]
    assert ids(alice_api.get("/alerts", acknowledged=False)) == [toxic.pk, volume.pk]
    assert ids(alice_api.get("/alerts", since="2024-03-08T12:00:00Z")) == [toxic.pk, negative.pk]
    assert ids(alice_api.get("/alerts", until="2024-03-08T12:00:00Z")) == [volume.pk]
    window = {"since": "2024-03-06", "until": "2024-03-10"}
    assert ids(alice_api.get("/alerts", **window)) == [negative.pk]
    for params in ({"metric": "loudness"}, {"since": "2024-03-10", "until": "2024-03-06"}):
        response = alice_api.get("/alerts", **params)
        assert response.status_code == 422, params
        assert response.json()["detail"][0]["loc"][1] in params


def test_it_shows_an_alert(alice_api: Api, talk: Talk) -> None:
    body = ok(alice_api.get(f"/alerts/{talk.alert.pk}"))
    assert body["message"] == "Volume in #help on 5 Mar 2024 is 10σ above its 7-day norm."
    response = alice_api.get("/alerts/999999")
    assert (response.status_code, response.json()) == (404, {"detail": "No alert #999999."})


def test_it_lists_alerts_in_the_same_number_of_queries_however_many(
    alice_api: Api, more_alerts: list[Alert], django_assert_num_queries: AssertNumQueries
) -> None:
    alice_api.get("/alerts")  # the token's last use is recorded once a minute
    # token (1), count (1), page with channels and who acknowledged (1)
    with django_assert_num_queries(3):
        assert len(ids(alice_api.get("/alerts"))) == 3
    channel = more_alerts[0].channel
    for day in range(14, 30):
        Alert.objects.create(
            channel=channel,
            metric=AlertMetric.VOLUME,
            window_start=at(day),
            window_end=at(day),
            value=1,
            mean=0,
            std=0,
            k=2,
            message="…",
        )
    with django_assert_num_queries(3):
        assert len(ids(alice_api.get("/alerts"))) == 19
