"""A small crafted Slack community for the member portrait's tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.test import override_settings

from townsquare.connectors.models import ImportRun
from townsquare.connectors.slack.tests.export import write_slack_export
from townsquare.lib.testing import import_export
from townsquare.listening.pipeline import enrich_pending

USERS = [
    {"id": "U1", "name": "ada", "profile": {"real_name": "Ada"}},
    {"id": "U2", "name": "bob", "profile": {"real_name": "Bob"}},
    {"id": "U3", "name": "chloe", "profile": {"real_name": "Chloe"}},
    {"id": "U4", "name": "dan", "profile": {"real_name": "Dan"}},
]
KUBERNETES_1 = "I love kubernetes, kubernetes is wonderful and amazing!"
KUBERNETES_2 = "Kubernetes is great, I love kubernetes so much"
DATABASE = [
    "The database migration is scheduled",
    "Database migration again tomorrow",
    "Database migration finished at noon",
]
QUESTION = "How do I configure postgres replication?"
ANSWER = "Set postgres replication with a standby server"
THANKS = "Thanks <@U2>, that helped a lot!"
OWN = "Postgres replication notes for everyone"
OWN_REPLY = "Also postgres replication needs a standby"
QUESTION_2 = "How should I configure postgres replication monitoring?"
ANSWER_2 = "Use postgres replication lag metrics"

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def _ts(n: int) -> str:
    return f"{1_700_000_000 + 600 * n}.000100"


def portrait_community(root: Path) -> ImportRun:
    """Ada writes happily about kubernetes (with replies and reactions) and flatly about a
    database migration; Bob answers postgres replication questions of Chloe and Dan, and
    Chloe thanks him."""
    general: list[dict[str, Any]] = [
        {
            "type": "message",
            "user": "U1",
            "text": KUBERNETES_1,
            "ts": _ts(0),
            "reactions": [{"name": "heart", "users": ["U3"], "count": 1}],
        },
        {
            "type": "message",
            "user": "U2",
            "text": "Kubernetes rocks indeed",
            "ts": _ts(1),
            "thread_ts": _ts(0),
        },
        {
            "type": "message",
            "user": "U1",
            "text": KUBERNETES_2,
            "ts": _ts(2),
            "reactions": [{"name": "tada", "users": ["U2", "U3"], "count": 2}],
        },
        {
            "type": "message",
            "user": "U3",
            "text": "Agreed, it is lovely",
            "ts": _ts(3),
            "thread_ts": _ts(2),
        },
        *[
            {"type": "message", "user": "U1", "text": text, "ts": _ts(4 + n)}
            for n, text in enumerate(DATABASE)
        ],
    ]
    help_: list[dict[str, Any]] = [
        {"type": "message", "user": "U3", "text": QUESTION, "ts": _ts(10)},
        {"type": "message", "user": "U2", "text": ANSWER, "ts": _ts(11), "thread_ts": _ts(10)},
        {"type": "message", "user": "U3", "text": THANKS, "ts": _ts(12), "thread_ts": _ts(10)},
        {"type": "message", "user": "U2", "text": OWN, "ts": _ts(13)},
        {"type": "message", "user": "U2", "text": OWN_REPLY, "ts": _ts(14), "thread_ts": _ts(13)},
        {"type": "message", "user": "U4", "text": QUESTION_2, "ts": _ts(15)},
        {"type": "message", "user": "U2", "text": ANSWER_2, "ts": _ts(16), "thread_ts": _ts(15)},
    ]  # fmt: skip
    export = write_slack_export(root, {"general": general, "help": help_}, USERS)
    with override_settings(TASKS=DUMMY_TASKS):
        run = import_export("slack", export, source="portrait")
    enrich_pending()
    return run
