from __future__ import annotations

import pytest
from django.core.paginator import Paginator

from townsquare.community.models import Member
from townsquare.lib.paging import ReadOnce

pytestmark = pytest.mark.django_db


def test_it_pages_the_ids_it_read_once_in_their_order() -> None:
    for name in ["Dara", "Ana", "Chen", "Bo", "Eve"]:
        Member.objects.create(display_name=name)
    listing = ReadOnce(
        Member.objects.filter(display_name__lt="E").order_by("-display_name"),
        Member.objects.all(),
    )
    paginator = Paginator(listing, 3)
    assert (paginator.count, paginator.num_pages) == (4, 2)
    assert [m.display_name for m in paginator.page(1)] == ["Dara", "Chen", "Bo"]
    assert [m.display_name for m in paginator.page(2)] == ["Ana"]
    assert listing[1].display_name == "Chen"
    assert listing[-1].display_name == "Ana"
    with pytest.raises(IndexError):
        listing[4]


def test_it_leaves_out_a_row_deleted_since_its_ids_were_read() -> None:
    for name in ["Ana", "Bo", "Chen"]:
        Member.objects.create(display_name=name)
    listing = ReadOnce(Member.objects.order_by("display_name"), Member.objects.all())
    Member.objects.filter(display_name="Bo").delete()
    assert len(listing) == 3  # the count is the one read with the ids
    assert [m.display_name for m in listing[0:3]] == ["Ana", "Chen"]
