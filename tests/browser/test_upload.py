"""A manager uploads a Slack export through the Imports page and watches its import finish."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from playwright.sync_api import expect

from tests.browser.conftest import Browser, log_in, shot
from townsquare.connectors.slack.tests.export import write_slack_export
from townsquare.connectors.tasks import import_upload_task
from townsquare.connectors.tests.zips import zip_folder
from townsquare.lib.testing import make_staff

ROOT = "1700000000.000100"
MESSAGES = {
    "general": [
        {"type": "message", "user": "U1", "text": "Who comes to the meetup?", "ts": ROOT},
        {"type": "message", "user": "U2", "text": "I do!", "ts": "1700000060.1", "thread_ts": ROOT},
    ],
    "random": [{"type": "message", "user": "U2", "text": "Slides are up", "ts": "1700003600.1"}],
}
USERS = [
    {"id": "U1", "name": "ada", "profile": {"real_name": "Ada Lovelace"}},
    {"id": "U2", "name": "bob", "profile": {"real_name": "Bob Builder"}},
]


def _work(upload_id: int, errors: list[BaseException]) -> None:
    """What `townsquare worker` does with the queued upload, in a thread of its own: Django
    refuses ORM calls from the thread that runs Playwright's event loop."""
    try:
        import_upload_task.call(upload_id)
    except BaseException as e:  # reported by the test
        errors.append(e)
    finally:
        connection.close()


@pytest.fixture
def acme_zip(settings: Any, tmp_path: Path, transactional_db: None) -> Path:
    """A small Slack export, zipped as Slack sends it, and Bob the manager: made before the
    browser starts (see the chromium fixture)."""
    settings.MEDIA_ROOT = tmp_path / "uploads"
    make_staff("bob")
    export = write_slack_export(tmp_path / "acme", MESSAGES, USERS)
    return zip_folder(export, tmp_path / "Acme Slack export.zip")


@pytest.mark.browser
def test_a_manager_uploads_an_export_and_watches_it_import(
    acme_zip: Path, chromium: Browser
) -> None:
    # The task backend stays the database one, as in production: the upload waits, queued,
    # until the "worker" below runs it, and the page polls until it has finished.
    page = chromium.new_page()
    base = chromium.base_url
    log_in(page, base, "bob")

    page.goto(base + "/imports/")
    expect(page.get_by_role("heading", name="Upload an export")).to_be_visible()
    page.get_by_label("Export file").set_input_files(str(acme_zip))
    page.get_by_label("Format").select_option("slack")
    page.get_by_label("Source name").fill("Acme Slack")
    shot(page, "upload-form")
    page.get_by_role("button", name="Upload and import").click()

    expect(page).to_have_url(re.compile(r"/imports/uploads/\d+/$"))
    expect(page.get_by_role("heading", name="Acme Slack export.zip")).to_be_visible()
    progress = page.locator("#upload-progress")
    expect(progress.locator(".status")).to_have_text("Queued")
    shot(page, "upload-queued")

    upload_id = int(re.findall(r"/imports/uploads/(\d+)/", page.url)[0])
    errors: list[BaseException] = []
    worker = threading.Thread(target=_work, args=(upload_id, errors))
    worker.start()
    worker.join(timeout=60)
    assert errors == []

    # htmx asks again every 2 s; the page turns without a reload.
    expect(progress.locator(".status")).to_have_text("Succeeded", timeout=10_000)
    expect(progress).to_contain_text("Records read")
    expect(progress.get_by_text("Importing")).to_have_count(0)
    shot(page, "upload-succeeded")

    page.get_by_role("link", name=re.compile(r"Open import #\d+")).click()
    expect(page.get_by_role("heading", name=re.compile(r"Import #\d+"))).to_be_visible()
    expect(page.get_by_text("Acme Slack").first).to_be_visible()
