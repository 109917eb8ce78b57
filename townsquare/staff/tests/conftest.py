"""Personas for the staff tests: Alice is a superuser, Ada an admin by role, Bob a manager,
Vera a viewer, Oscar signed in without a role."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from townsquare.lib.testing import make_staff


@pytest.fixture
def alice(db: None) -> User:
    return make_staff("alice", superuser=True)


@pytest.fixture
def ada(db: None) -> User:
    return make_staff("ada", role="admin")


@pytest.fixture
def bob(db: None) -> User:
    return make_staff("bob")


@pytest.fixture
def vera(db: None) -> User:
    return make_staff("vera", role="viewer")


@pytest.fixture
def oscar(db: None) -> User:
    return make_staff("oscar", staff=False)


@pytest.fixture
def alice_client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client
