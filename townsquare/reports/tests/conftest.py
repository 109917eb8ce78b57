"""Fixtures of the report tests: the small community of town.py and the staff personas."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from townsquare.lib.testing import make_staff
from townsquare.reports.tests.town import Town, build_town


@pytest.fixture
def town(db: None) -> Town:
    return build_town()


@pytest.fixture
def vera(db: None) -> User:
    """A viewer: may read the reports."""
    return make_staff("vera", role="viewer")


@pytest.fixture
def vera_client(client: Client, vera: User) -> Client:
    client.force_login(vera)
    return client
