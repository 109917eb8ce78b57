"""The Reports page, its chart blocks and downloads: pickers, form errors, roles, and the CSV
and Parquet files reading back as the table view shows them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, timedelta
from html.parser import HTMLParser
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from townsquare.community.models import Member
from townsquare.lib.testing import make_staff
from townsquare.listening.models import Enrichment
from townsquare.metrics.rollups import rebuild as rebuild_rollups
from townsquare.reports.data import CHARTS
from townsquare.reports.forms import ReportForm
from townsquare.reports.tests.town import TWO_WEEKS, Town
from townsquare.segments.models import Segment


class _Tables(HTMLParser):
    """The text of every cell of every table row, header rows included."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("th", "td"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table_view(page: str) -> list[list[str]]:
    parser = _Tables()
    parser.feed(page)
    return parser.rows


def parquet_rows(content: bytes) -> list[list[str]]:
    """The Parquet file's rows, each value written as the CSV writes it."""
    table = pq.read_table(io.BytesIO(content))
    rows = [table.column_names]
    for record in table.to_pylist():
        rows.append(
            [
                "" if v is None else v.isoformat() if isinstance(v, date) else str(v)
                for v in record.values()
            ]
        )
    return rows


def test_a_viewer_reads_the_page_with_a_shell_per_chart(vera_client: Client, town: Town) -> None:
    response = vera_client.get(reverse("reports"), TWO_WEEKS)
    assert response.status_code == 200
    page = response.content.decode()
    assert '<a href="/reports/" aria-current="page">Reports</a>' in page
    query = "range=custom&amp;since=2024-03-04&amp;until=2024-03-17&amp;period=week"
    for slug, chart in CHARTS.items():
        assert f'<h2 id="report-{slug}-title">{chart.title}</h2>' in page
        assert f'hx-get="/reports/{slug}/?{query}"' in page
        assert f'href="/reports/{slug}.csv?{query}"' in page
        assert f'href="/reports/{slug}.parquet?{query}"' in page
    assert "4 Mar 2024 to 17 Mar 2024 (UTC), per week." in page


def test_outsiders_see_no_report(client: Client, town: Town) -> None:
    client.force_login(make_staff("oscar", staff=False))
    for url in (
        reverse("reports"),
        reverse("report_chart", args=["activity"]),
        reverse("report_csv", args=["activity"]),
        reverse("report_parquet", args=["activity"]),
    ):
        assert client.get(url, TWO_WEEKS).status_code == 403


@pytest.mark.parametrize("slug", list(CHARTS))
def test_downloads_read_back_as_the_table_view(vera_client: Client, town: Town, slug: str) -> None:
    block = vera_client.get(reverse("report_chart", args=[slug]), TWO_WEEKS)
    assert block.status_code == 200
    shown = table_view(block.content.decode())
    assert len(shown) > 1, "the table view has rows"

    download = vera_client.get(reverse("report_csv", args=[slug]), TWO_WEEKS)
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"] == (
        f'attachment; filename="townsquare-{slug}-2024-03-04-to-2024-03-17.csv"'
    )
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0] == [c.key for c in CHARTS[slug].table(_picks()).columns]
    # The table view writes a dash where the CSV has an empty cell.
    assert [["–" if v == "" else v for v in row] for row in rows[1:]] == shown[1:]

    parquet = vera_client.get(reverse("report_parquet", args=[slug]), TWO_WEEKS)
    assert parquet["Content-Disposition"].endswith('-2024-03-04-to-2024-03-17.parquet"')
    assert parquet_rows(parquet.content) == rows


def _picks() -> Any:
    form = ReportForm(TWO_WEEKS)
    assert form.is_valid()
    return form.picks()


def test_the_blocks_draw_from_json_and_shade_heatmaps(vera_client: Client, town: Town) -> None:
    activity = vera_client.get(reverse("report_chart", args=["activity"]), TWO_WEEKS)
    page = activity.content.decode()
    assert '<canvas data-chart="report-data-activity"' in page
    assert '<script id="report-data-activity" type="application/json">' in page
    assert '"labels": ["2024-03-04", "2024-03-11"]' in page
    assert '"values": [6, 12]' in page
    assert "<summary>Table view</summary>" in page
    params = {**TWO_WEEKS, "since": "2024-03-01", "until": "2024-04-30", "period": "month"}
    retention = vera_client.get(reverse("report_chart", args=["retention"]), params)
    page = retention.content.decode()
    # 100 % is the darkest shade, Ann's 20 % back in April a light one, no value none.
    assert '<td class="num heat-7">100.0</td><td class="num heat-2">20.0</td>' in page
    assert '<td class="num heat-0">–</td>' in page
    assert "<canvas" not in page


def test_it_links_helpers_to_their_member_page(vera_client: Client, town: Town) -> None:
    page = vera_client.get(reverse("report_chart", args=["helpers"]), TWO_WEEKS).content.decode()
    assert f'<a href="/members/{town.members["Ben"].pk}/">Ben</a>' in page


def test_it_defuses_formulas_in_the_csv(vera_client: Client, town: Town) -> None:
    Member.objects.filter(pk=town.members["Ben"].pk).update(display_name="=HYPERLINK(1)")
    download = vera_client.get(reverse("report_csv", args=["helpers"]), TWO_WEEKS)
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[1][0] == "'=HYPERLINK(1)"


def test_it_narrows_to_a_segment_of_a_search(vera_client: Client, town: Town) -> None:
    # A saved search (the member list's `q`) is a subquery of its own: it narrows too.
    segment = Segment.objects.create(name="Named Ann", filters={"q": "Ann"})
    params = {**TWO_WEEKS, "segment": str(segment.pk)}
    download = vera_client.get(reverse("report_csv", args=["activity"]), params)
    assert download.content.decode().splitlines() == [
        "period_start,messages",
        "2024-03-04,2",
        "2024-03-11,2",
    ]
    page = vera_client.get(reverse("reports"), params).content.decode()
    assert "segment “Named Ann”" in page
    # Sentiment and topics are the whole community's, and say so.
    assert page.count("a segment does not narrow this chart") == 2


BAD_PICKS = [
    ({"range": "forever"}, "Select a valid choice. forever is not one of the available choices."),
    ({"range": "custom"}, "Custom dates need a first and a last day."),
    ({"range": "custom", "since": "2024-03-10", "until": "2024-03-01"}, "on or after the first"),
    ({"range": "custom", "since": "yesterday", "until": "2024-03-01"}, "Enter a valid date."),
    ({"range": "custom", "since": "0001-01-01", "until": "2024-03-01"}, "between 1970 and 2100"),
    ({"range": "custom", "since": "2024-03-01", "until": "9999-12-31"}, "between 1970 and 2100"),
    ({"range": "custom", "since": "2000-01-01", "until": "2024-03-01"}, "at most 10 years"),
    ({"range": "12m", "period": "day"}, "choose a longer one"),
    ({"period": "year"}, "Select a valid choice."),
    ({"source": "nope"}, "Select a valid choice."),
    ({"channel": "99999"}, "Select a valid choice."),
    ({"segment": "-1"}, "Select a valid choice."),
]


@pytest.mark.parametrize(("params", "error"), BAD_PICKS)
def test_bad_picks_are_form_errors(
    vera_client: Client, town: Town, params: dict[str, str], error: str
) -> None:
    page = vera_client.get(reverse("reports"), params)
    assert page.status_code == 400
    assert error in page.content.decode()
    assert 'hx-get="/reports/activity/' not in page.content.decode()
    block = vera_client.get(reverse("report_chart", args=["activity"]), params)
    assert block.status_code == 400 and error in block.content.decode()
    download = vera_client.get(reverse("report_parquet", args=["activity"]), params)
    assert download.status_code == 400 and error in download.content.decode()


def test_it_refuses_a_channel_of_another_source(vera_client: Client, town: Town) -> None:
    params = {"source": str(town.forum.pk), "channel": str(town.help.pk)}
    page = vera_client.get(reverse("reports"), params)
    assert page.status_code == 400
    assert "#help is not a channel of forum." in page.content.decode()


def test_it_knows_no_other_chart(vera_client: Client, town: Town) -> None:
    assert vera_client.get("/reports/nothing/").status_code == 404
    assert vera_client.get("/reports/nothing.csv").status_code == 404


def test_presets_end_today(db: None) -> None:
    today = timezone.now().astimezone(UTC).date()
    thirty = ReportForm({}).picks()
    assert (thirty.since, thirty.until, thirty.period) == (
        today - timedelta(days=29),
        today + timedelta(days=1),
        "day",
    )
    year = ReportForm({"range": "12m"}).picks()
    assert year.period == "month" and year.since.day == 1 and year.last_day == today
    assert len(year.buckets()) == 12
    for last, period in (("2024-03-02", "day"), ("2024-06-30", "week"), ("2024-12-31", "month")):
        custom = ReportForm({"range": "custom", "since": "2024-01-01", "until": last})
        assert custom.picks().period == period


def test_it_offers_the_latest_data_when_the_period_is_empty(
    vera_client: Client, town: Town
) -> None:
    page = vera_client.get(reverse("reports")).content.decode()
    assert "The latest interaction is from 3 Apr 2024" in page
    assert "since=2023-04-04&amp;until=2024-04-03" in page


def test_it_says_when_a_chart_has_nothing(vera_client: Client, db: None, vera: User) -> None:
    page = vera_client.get(reverse("report_chart", args=["topics"])).content.decode()
    assert "Nothing to show for this period." in page


def test_it_escapes_hostile_names_and_topics(vera_client: Client, town: Town) -> None:
    hostile = "<script>alert(1)</script>"
    Member.objects.filter(pk=town.members["Ben"].pk).update(display_name=hostile)
    Enrichment.objects.update(keywords=[hostile])
    rebuild_rollups()  # as the enrichment pipeline does after writing labels
    for slug in ("helpers", "topics"):
        page = vera_client.get(reverse("report_chart", args=[slug]), TWO_WEEKS).content.decode()
        assert hostile not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the table view
        assert "\\u003Cscript\\u003Ealert(1)\\u003C/script\\u003E" in page  # the chart's data
