"""The REST API at /api/v1/, with its OpenAPI schema at /api/v1/openapi.json and interactive
docs at /api/v1/docs. Every operation needs a bearer token (`townsquare tokens create`) or the
browser session of a signed-in staff member (with the CSRF token on writes)."""

from __future__ import annotations

from csp.constants import SELF
from csp.decorators import csp_update
from ninja import NinjaAPI

from townsquare.api.auth import StaffSessionAuth, TokenAuth
from townsquare.api.routers import identities, members, memory, segments

api = NinjaAPI(
    title="Townsquare API",
    version="1",
    description=(
        "Members, identities, notes, touchpoints, knowledge, and segments (saved member-list "
        "filters, with the members each selects now). Authenticate with "
        "`Authorization: Bearer <key>` (create a key with `townsquare tokens create USERNAME "
        '--name NAME`). Errors are JSON: `{"detail": ...}`.'
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
