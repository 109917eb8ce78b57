"""Saved replies: their variables, checked when saved and filled in for the member; the pages
that manage them; the composer that uses them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from townsquare.community.models import Identity, Source
from townsquare.inbox import services
from townsquare.inbox.models import SavedReply
from townsquare.inbox.replies import check_body, fill, member_values, unknown_variables
from townsquare.inbox.rollup import refresh_states
from townsquare.inbox.tests.conftest import Community

pytestmark = pytest.mark.django_db

WELCOME = "Hi {first_name}! Welcome to #{channel} on {platform}, @{handle} ({name})."


def test_it_names_unknown_variables() -> None:
    assert unknown_variables(WELCOME) == []
    body = "Hi {firstname}, {first name} and {firstname} again; {} {name}"
    assert unknown_variables(body) == ["firstname", "first name", ""]
    with pytest.raises(ValueError) as error:
        check_body("Hello {firstname}")
    assert str(error.value) == (
        "Unknown variable {firstname}. The variables are {first_name}, {name}, {handle}, "
        "{channel} and {platform}."
    )


def test_it_fills_in_the_member(community: Community) -> None:
    ada = community.member("Ada Lovelace")
    other = Source.objects.create(name="forum", platform="discord")
    Identity.objects.create(source=other, member=ada, external_id="a", handle="aaa")
    talk = community.conversation()
    values = member_values(ada, talk, Identity.objects.filter(member=ada))
    assert fill(WELCOME, values) == (
        "Hi Ada! Welcome to #help on Slack, @ada.lovelace (Ada Lovelace)."
    )
    # A placeholder that is no variable (saved before the list changed) stays as written.
    assert fill("{first_name} {unknown}", values) == "Ada {unknown}"
    assert member_values(None, talk)["first_name"] == ""


def test_the_service_refuses_unknown_variables(bob: User) -> None:
    with pytest.raises(services.InboxError, match=r"Unknown variable \{nme\}"):
        services.do_save_reply(title="Hi", body="Hi {nme}", user=bob)
    services.do_save_reply(title="Hi", body="Hi {name}", user=bob)
    with pytest.raises(services.InboxError, match="already titled"):
        services.do_save_reply(title=" Hi ", body="Hello {name}", user=bob)


def test_managers_manage_saved_replies(bob_client: Client) -> None:
    url = reverse("inbox_replies")
    response = bob_client.post(url, {"title": "Welcome", "body": "Hi {frist_name}"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Unknown variable {frist_name}. The variables are {first_name}" in page
    assert not SavedReply.objects.exists()

    response = bob_client.post(url, {"title": "Welcome", "body": WELCOME})
    assert response.status_code == 302
    reply = SavedReply.objects.get()
    assert (reply.title, reply.body, reply.created_by.username) == ("Welcome", WELCOME, "bob")  # type: ignore[union-attr]

    edit = reverse("inbox_reply", args=[reply.pk])
    assert "Save changes" in bob_client.get(edit).content.decode()
    bob_client.post(edit, {"title": "Welcome!", "body": "Hello {name}"})
    reply.refresh_from_db()
    assert (reply.title, reply.body) == ("Welcome!", "Hello {name}")
    response = bob_client.post(url, {"title": "Welcome!", "body": "Again"})
    assert "already exists" in response.content.decode()

    bob_client.post(reverse("inbox_reply_delete", args=[reply.pk]))
    assert not SavedReply.objects.exists()


def test_a_viewer_reads_but_cannot_change_saved_replies(
    client: Client, vera: User, bob: User
) -> None:
    reply = services.do_save_reply(title="Welcome", body=WELCOME, user=bob)
    client.force_login(vera)
    page = client.get(reverse("inbox_replies")).content.decode()
    assert "Welcome" in page and "Add a saved reply" not in page
    for url in (
        reverse("inbox_replies"),
        reverse("inbox_reply", args=[reply.pk]),
        reverse("inbox_reply_delete", args=[reply.pk]),
    ):
        response = client.post(url, {"title": "x", "body": "x"})
        assert response.status_code == 403
        assert "Only managers and admins can change the saved replies." in (
            response.content.decode()
        )
    assert client.get(reverse("inbox_reply", args=[reply.pk])).status_code == 403
    assert SavedReply.objects.get().title == "Welcome"


def test_the_composer_fills_a_saved_reply_escaped(
    community: Community, bob_client: Client, bob: User
) -> None:
    hostile = community.member("<b>Eve</b> & co")
    talk = community.conversation("Help")
    community.say(talk, hostile, 0)
    refresh_states()
    reply = services.do_save_reply(title="Welcome", body="Hi {first_name}, {name}", user=bob)
    url = reverse("inbox_compose", args=[talk.pk])
    response = bob_client.get(url, {"reply": reply.pk}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert '<div id="reply-box" class="field">' in html
    assert (
        'aria-describedby="composer-note">'
        "Hi &lt;b&gt;Eve&lt;/b&gt;, &lt;b&gt;Eve&lt;/b&gt; &amp; co</textarea>"
    ) in html
    # Without JavaScript, the picker's form reloads the page with the reply filled in.
    page = bob_client.get(reverse("inbox_conversation", args=[talk.pk]), {"reply": reply.pk})
    html = page.content.decode()
    assert "Hi &lt;b&gt;Eve&lt;/b&gt;, &lt;b&gt;Eve&lt;/b&gt; &amp; co</textarea>" in html
    assert "<b>Eve</b>" not in html
    assert "Townsquare cannot post replies yet" in html
    # An unknown reply gives an empty text, not an error.
    response = bob_client.get(url, {"reply": "999"})
    assert "></textarea>" in response.content.decode()


def test_the_composer_is_for_managers(community: Community, client: Client, vera: User) -> None:
    talk = community.conversation()
    community.say(talk, community.member("Ada"), 0)
    client.force_login(vera)
    assert client.get(reverse("inbox_compose", args=[talk.pk])).status_code == 403
