"""Roles on every API operation: a viewer's token reads everything and changes nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.apps import apps
from django.test import Client

from townsquare.api.api import api
from townsquare.api.services import do_create_token
from townsquare.api.tests.conftest import Api, Community
from townsquare.lib.testing import make_staff


def _operations() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return [
        (method, path.removeprefix("/api/v1"))
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "patch", "put", "delete"}
    ]


def _row_counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in apps.get_models() if m._meta.managed}


@pytest.fixture
def viewer_api(db: None) -> Api:
    vera = make_staff("vera", role="viewer")
    return Api(Client(), do_create_token(user=vera, name="vera's")[1])


def _path(path: str, community: Community) -> str:
    # A real member in every id, so that a write reaches its role check, not a 404; and a real
    # metric's name.
    path = path.replace("{name}", "new-members")
    return re.sub(r"\{[a-z_]+\}", str(community.ada.pk), path)


@pytest.mark.parametrize(
    ("method", "path"), [op for op in _operations() if op[0] == "get"], ids=str
)
def test_a_viewer_reads_every_list(
    viewer_api: Api, community: Community, method: str, path: str
) -> None:
    response = viewer_api.get(_path(path, community))
    assert response.status_code in {200, 404}, response.content


@pytest.mark.parametrize(
    ("method", "path"), [op for op in _operations() if op[0] != "get"], ids=str
)
def test_a_viewer_changes_nothing(
    viewer_api: Api, community: Community, method: str, path: str
) -> None:
    before = _row_counts()
    # Valid for every write, so that each one reaches its role check.
    body: dict[str, Any] = {
        "text": "x",
        "name": "x",
        "summary": "x",
        "title": "x",
        "what": "x",
        "reason": "x",
        "until": "2099-01-01T00:00:00Z",
        "assignee_id": None,
    }
    url = _path(path, community)
    if method == "delete":
        response = viewer_api.delete(url)
    else:
        response = getattr(viewer_api, "patch" if method == "put" else method)(url, body)
    assert response.status_code in {403, 404, 422}, response.content
    assert _row_counts() == before


def test_the_api_has_write_operations_to_check() -> None:
    assert len([op for op in _operations() if op[0] != "get"]) >= 5
