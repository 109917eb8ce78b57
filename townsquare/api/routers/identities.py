"""One identity: a member's account on one source."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router
from ninja.errors import HttpError
from ninja.params import P, PathEx

from townsquare.api.convert import identity_out
from townsquare.api.schemas import ErrorOut, IdentityOut
from townsquare.community.models import Identity

router = Router(tags=["identities"])


@router.get(
    "/identities/{identity_id}",
    response={200: IdentityOut, 404: ErrorOut},
    summary="Get an identity",
)
def get_identity(
    request: HttpRequest, identity_id: PathEx[int, P(ge=1, le=2**63 - 1)]
) -> IdentityOut:
    identity = Identity.objects.select_related("source").filter(pk=identity_id).first()
    if identity is None:
        raise HttpError(404, f"No identity #{identity_id}.")
    return identity_out(identity)
