"""Erasing a member (community/privacy.py) also takes their name out of the delivery log."""

from __future__ import annotations

import json

import pytest

from townsquare.community.models import Member
from townsquare.community.privacy import do_erase_member
from townsquare.webhooks.models import Delivery
from townsquare.webhooks.tests.conftest import subscribe

pytestmark = pytest.mark.django_db


def test_erasure_redacts_the_member_from_webhook_deliveries() -> None:
    zoe = Member.objects.create(display_name="Zoë Quartermaine")
    other = Member.objects.create(display_name="Otto Keeps")
    subscription = subscribe("http://127.0.0.1:9/hook")
    payload = {
        "event": "members.merged",
        "member": {"id": zoe.pk, "name": "Zoë Quartermaine"},
        "merged": [{"id": other.pk, "name": "Otto Keeps"}],
        "reasons": ["ZOË QUARTERMAINE asked twice"],
    }
    about_her = Delivery.objects.create(
        subscription=subscription,
        event="members.merged",
        payload=payload,
        response_excerpt='{"echo": "Zoë Quartermaine"}',
    )
    unrelated = Delivery.objects.create(
        subscription=subscription, event="ping", payload={"member": {"name": "Otto Keeps"}}
    )

    do_erase_member(member=zoe, actor=None, reason="asked by email")

    about_her.refresh_from_db()
    text = json.dumps(about_her.payload, ensure_ascii=False) + about_her.response_excerpt
    assert "Quartermaine" not in text.title()
    assert about_her.payload["member"]["id"] == zoe.pk
    # Other people stay as they were.
    assert about_her.payload["merged"][0]["name"] == "Otto Keeps"
    unrelated.refresh_from_db()
    assert unrelated.payload == {"member": {"name": "Otto Keeps"}}
