"""The REST API at /api/v1/, with its OpenAPI schema at /api/v1/openapi.json and interactive
docs at /api/v1/docs. Every operation needs a bearer token (`townsquare tokens create`) or the
browser session of a signed-in staff member (with the CSRF token on writes)."""

from __future__ import annotations

from csp.constants import SELF
from csp.decorators import csp_update
from ninja import NinjaAPI

from townsquare.api.auth import StaffSessionAuth, TokenAuth
from townsquare.api.routers import (
    alerts,
    care,
    conversations,
    identities,
    interactions,
    members,
    memory,
    metrics,
    segments,
)

api = NinjaAPI(
    title="Townsquare API",
    version="1",
    description=(
        "Members, identities, notes, touchpoints, knowledge, segments (saved member-list "
        "filters, with the members each selects now), interactions with their labels, "
        "conversations with their inbox state, the care queue, the community metrics and spike "
        "alerts. Every staff role reads; managers and admins change data and work the care "
        "queue; a message a moderator hid keeps its text and labels for moderators. "
        "Authenticate with `Authorization: Bearer <key>` (create a key with `townsquare tokens "
        "create USERNAME --name NAME`). Lists take `limit` (at most 200) and `offset` and "
        'answer `{"count", "limit", "offset", "items"}`. Errors are JSON: `{"detail": ...}`. '
        "docs/api.md has more."
    ),
    auth=[TokenAuth(), StaffSessionAuth()],
    urls_namespace="api",
    # Swagger UI runs no inline script (its settings are a JSON data block), but its stylesheet
    # draws its icons as data: images: the docs page, and only it, may show those.
    docs_decorator=csp_update({"img-src": [SELF, "data:"]}),
)
api.add_router("", members.router)
api.add_router("", identities.router)
api.add_router("", memory.router)
api.add_router("", segments.router)
api.add_router("", interactions.router)
api.add_router("", conversations.router)
api.add_router("", care.router)
api.add_router("", metrics.router)
api.add_router("", alerts.router)
