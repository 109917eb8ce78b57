from __future__ import annotations

import json
from datetime import UTC, datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from townsquare.api.tests.conftest import Api, AssertNumQueries
from townsquare.metrics import definitions as m
from townsquare.metrics import results

# The metrics looking back from "now" (active members today, unanswered for 24 hours, drifting
# away) must see the same now from the command line and from the API.
NOW = datetime(2024, 3, 31, 12, tzinfo=UTC)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def problem(response: Any) -> tuple[list[str], str]:
    assert response.status_code == 422, response.content
    [found] = response.json()["detail"]
    return found["loc"], found["msg"]


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def test_it_lists_every_metric_with_what_it_gives(alice_api: Api) -> None:
    body = ok(alice_api.get("/metrics"))
    assert [i["name"] for i in body["items"]] == list(m.METRICS)
    assert set(results.SUMMARIES) == set(m.METRICS)
    by_name = {i["name"]: i for i in body["items"]}
    assert by_name["ttfr"]["description"].startswith("Time to first response")
    assert by_name["ttfr"]["options"] == ["period"]
    assert by_name["unanswered"]["options"] == ["hours"]
    assert by_name["inactive-members"]["options"] == ["days"]
    assert by_name["onion"]["options"] == []


SCOPES: list[dict[str, str]] = [
    {},
    {"source": "Data Vis Slack", "since": "2024-03-01", "until": "2024-03-31"},
    {"channel": "#help", "until": "2024-03-04"},
    {"since": "2024-03-05", "until": "2024-03-20"},
]
OPTIONS: dict[str, dict[str, str]] = {
    "ttfr": {"period": "week"},
    "sentiment-trend": {"period": "day", "since": "2024-03-01", "until": "2024-03-12"},
    "unanswered": {"hours": "48"},
    "inactive-members": {"days": "10"},
}


@pytest.mark.usefixtures("talk", "frozen")
@pytest.mark.parametrize("name", m.METRICS)
def test_it_gives_what_the_command_line_prints_for_the_same_options(
    alice_api: Api, name: str
) -> None:
    for params in [*SCOPES, OPTIONS.get(name, {})]:
        out = StringIO()
        flags = [arg for key, value in params.items() for arg in (f"--{key}", value)]
        call_command("metrics", name, "--json", *flags, stdout=out)
        printed = json.loads(out.getvalue())
        assert ok(alice_api.get(f"/metrics/{name}", **params)) == printed, params
        assert printed["metric"] == name


@pytest.mark.usefixtures("talk", "frozen")
def test_it_computes_metrics_on_real_rows(alice_api: Api) -> None:
    ttfr = ok(alice_api.get("/metrics/ttfr", channel="help"))
    overall = [r for r in ttfr["rows"] if r["channel"] is None]
    # Ada asked on 3 March at noon; Bob answered a day later.
    assert overall == [
        {
            "channel": None,
            "period_start": "2024-03-01",
            "conversations": 1,
            "responded": 1,
            "no_response": 0,
            "median_seconds": 86400.0,
            "p90_seconds": 86400.0,
        }
    ]
    assert ok(alice_api.get("/metrics/new-members"))["per_month"] == {"2024-03-01": 3}
    unanswered = ok(alice_api.get("/metrics/unanswered", source="townsquare repo"))
    assert (unanswered["total"], unanswered["hours"]) == (1, 24)
    active = ok(alice_api.get("/metrics/active-members", until="2024-03-10"))
    assert (active["day"], active["dau"], active["mau"]) == ("2024-03-10", 1, 3)


@pytest.mark.usefixtures("talk")
def test_it_refuses_a_bad_scope_naming_the_parameter(alice_api: Api) -> None:
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("ttfr", {"source": "Myspace"}, "source"),
        ("onion", {"channel": "#nowhere"}, "channel"),
        ("onion", {"source": "townsquare repo", "channel": "help"}, "channel"),
        ("new-members", {"since": "2024-03-10", "until": "2024-03-09"}, "since"),
        ("new-members", {"period": "week"}, "period"),
        ("ttfr", {"hours": 3}, "hours"),
        ("unanswered", {"days": 3}, "days"),
        ("unanswered", {"hours": -1}, "hours"),
        ("ttfr", {"period": "year"}, "period"),
        ("sentiment-trend", {"period": "day"}, "period"),
        (
            "sentiment-trend",
            {"period": "day", "since": "2020-01-01", "until": "2024-01-01"},
            "until",
        ),
        ("retention", {"since": "1999-12-31"}, "since"),
        ("retention", {"until": "2100-01-01"}, "until"),
        ("retention", {"until": "31/03/2024"}, "until"),
    ]
    for name, params, named in cases:
        loc, message = problem(alice_api.get(f"/metrics/{name}", **params))
        assert loc == ["query", named], (name, params)
        assert message
    assert problem(alice_api.get("/metrics/ttfr", source="Myspace")) == (
        ["query", "source"],
        "no source is named 'Myspace'",
    )
    loc, message = problem(alice_api.get("/metrics/happiness"))
    assert loc == ["path", "name"] and "ttfr" in message


def test_it_answers_the_metrics_list_in_one_query(
    alice_api: Api, django_assert_num_queries: AssertNumQueries
) -> None:
    alice_api.get("/metrics")  # the token's last use is recorded once a minute
    with django_assert_num_queries(1):  # the token
        ok(alice_api.get("/metrics"))
