"""Which task backend is configured, and setting up worker processes."""

from __future__ import annotations

from django.conf import settings

# Backend class path -> the short name TOWNSQUARE_TASK_BACKEND uses.
BACKEND_KINDS = {
    "django_tasks_db.DatabaseBackend": "db",
    "django_tasks_db.backend.DatabaseBackend": "db",
    "django_tasks_rq.RQBackend": "rq",
    "django_tasks_rq.backend.RQBackend": "rq",
    "django_tasks.backends.immediate.ImmediateBackend": "immediate",
    "django_tasks.backends.dummy.DummyBackend": "dummy",
}


def backend_kind(alias: str = "default") -> str:
    """db, rq, immediate or dummy for the backend `alias` of settings.TASKS."""
    path = str(settings.TASKS[alias]["BACKEND"])
    try:
        return BACKEND_KINDS[path]
    except KeyError:
        raise ValueError(f"TASKS[{alias!r}]: unknown task backend {path!r}") from None


def backend_queues(alias: str = "default") -> list[str]:
    return [str(q) for q in settings.TASKS[alias].get("QUEUES") or ["default"]]


def setup_worker_process() -> None:
    """Initializer of a spawned worker process: Django set up as in its parent (the settings
    come from the same environment). Lives here, in a module that imports no models, because
    the child imports it before Django is ready."""
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townsquare.settings")
    django.setup()
