from __future__ import annotations

import pytest
from django.test import Client

from townsquare.api.tests.conftest import BASE

PATHS = {
    "/api/v1/members": {"get"},
    "/api/v1/members/{member_id}": {"get", "patch"},
    "/api/v1/members/{member_id}/identities": {"get"},
    "/api/v1/identities/{identity_id}": {"get"},
    "/api/v1/members/{member_id}/notes": {"get", "post"},
    "/api/v1/notes/{note_id}": {"patch", "delete"},
    "/api/v1/members/{member_id}/touchpoints": {"get", "post"},
    "/api/v1/members/{member_id}/knowledge": {"get", "post"},
    "/api/v1/segments": {"get", "post"},
    "/api/v1/segments/{segment_id}": {"get", "patch", "delete"},
    "/api/v1/segments/{segment_id}/members": {"get"},
    "/api/v1/interactions": {"get"},
    "/api/v1/interactions/{interaction_id}": {"get"},
    "/api/v1/conversations": {"get"},
    "/api/v1/conversations/{conversation_id}": {"get"},
    "/api/v1/care-items": {"get"},
    "/api/v1/care-items/{item_id}": {"get"},
    "/api/v1/care-items/{item_id}/assign": {"post"},
    "/api/v1/care-items/{item_id}/snooze": {"post"},
    "/api/v1/care-items/{item_id}/resolve": {"post"},
    "/api/v1/care-items/{item_id}/dismiss": {"post"},
    "/api/v1/metrics": {"get"},
    "/api/v1/metrics/{name}": {"get"},
    "/api/v1/alerts": {"get"},
    "/api/v1/alerts/{alert_id}": {"get"},
}


@pytest.mark.django_db
def test_it_serves_a_valid_openapi_schema_listing_every_path(client: Client) -> None:
    response = client.get(f"{BASE}/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Townsquare API"
    assert {path: set(ops) for path, ops in schema["paths"].items()} == PATHS
    schemes = schema["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation["security"], (method, path)
            assert operation["summary"], (method, path)
    # schemathesis refuses a schema that does not conform to the OpenAPI specification.
    schemathesis = pytest.importorskip("schemathesis")
    loaded = schemathesis.openapi.from_dict(schema)
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert len(operations) == sum(len(ops) for ops in PATHS.values())


@pytest.mark.django_db
def test_it_serves_the_interactive_docs(client: Client) -> None:
    response = client.get(f"{BASE}/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "openapi.json" in page
    # Served by Townsquare itself, like every other asset: no CDN.
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
