"""Tests of the Stack Exchange importer against real data dumps and small hand-written ones."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from defusedxml.ElementTree import parse

from townsquare.community.models import Channel, Conversation, Identity, Interaction
from townsquare.connectors.base import ImportFormatError
from townsquare.connectors.models import ImportRun, RejectedRecord, RunStatus
from townsquare.connectors.stackexchange.importer import StackExchangeImporter
from townsquare.lib.testing import import_export

CONLANG = "stackexchange_conlang_meta"
BICYCLES = "stackexchange_bicycles_meta"


def rows(root: Path, name: str) -> list[dict[str, str]]:
    path = root / name
    return [dict(row.attrib) for row in parse(path).iter("row")] if path.exists() else []


def count_dump(root: Path) -> Counter[str]:
    """An independent reading of a dump, whole files at once: what the import should hold."""
    counts: Counter[str] = Counter()
    posts = rows(root, "Posts.xml")
    post_ids = {p["Id"] for p in posts}
    names: set[str] = set()
    threads: set[str] = set()
    for p in posts:
        if p["PostTypeId"] == "2":
            counts["answer"] += 1
            threads.add(p["ParentId"])
        elif p["PostTypeId"] == "1" or p.get("Body", "").strip() or p.get("Title"):
            counts["post"] += 1
            counts["question"] += p["PostTypeId"] == "1"
            threads.add(p["Id"])
        else:
            continue
        if not p.get("OwnerUserId") and p.get("OwnerDisplayName"):
            names.add(p["OwnerDisplayName"])
    for c in rows(root, "Comments.xml"):
        counts["comment"] += 1
        if not c.get("UserId") and c.get("UserDisplayName"):
            names.add(c["UserDisplayName"])
    for v in rows(root, "Votes.xml"):
        counts["accepted" if v["VoteTypeId"] == "1" else "vote"] += 1
        counts["vote on a deleted post"] += v["PostId"] not in post_ids
    counts["badge"] = len(rows(root, "Badges.xml"))
    counts["described identity"] = len(rows(root, "Users.xml")) + len(names)
    counts["conversation"] = len(threads)
    return counts


def write_dump(root: Path, **files: list[dict[str, str]] | str) -> Path:
    """A dump folder: each file is given as rows of attributes, or as its raw text."""
    root.mkdir(parents=True, exist_ok=True)
    for stem, content in files.items():
        if isinstance(content, list):
            lines = [
                "<row " + " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items()) + " />"
                for attrs in content
            ]
            content = (
                '<?xml version="1.0" encoding="utf-8"?>\n'
                f"<{stem.lower()}>\n"
                + "".join(f"  {line}\n" for line in lines)
                + f"</{stem.lower()}>\n"
            )
        (root / f"{stem}.xml").write_text(content, encoding="utf-8")
    return root


def question(post_id: str, **extra: str) -> dict[str, str]:
    return {
        "Id": post_id,
        "PostTypeId": "1",
        "CreationDate": "2020-01-01T10:00:00.000",
        "Title": f"Question {post_id}",
        "Body": f"<p>Body of {post_id}</p>",
        **extra,
    }


def answer(post_id: str, parent: str, **extra: str) -> dict[str, str]:
    return {
        "Id": post_id,
        "PostTypeId": "2",
        "ParentId": parent,
        "CreationDate": "2020-01-02T10:00:00.000",
        "Body": f"<p>Answer {post_id}</p>",
        **extra,
    }


def kinds() -> Counter[str]:
    return Counter(Interaction.objects.values_list("kind", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize("folder", [CONLANG, BICYCLES])
def test_it_imports_the_real_dumps(shared_data: Path, folder: str) -> None:
    root = shared_data / folder
    expected = count_dump(root)
    run = import_export("stackexchange", root)

    assert run.status == RunStatus.SUCCEEDED and run.rejected_count == 0
    got = kinds()
    for kind in ("post", "answer", "comment", "accepted", "vote", "badge"):
        assert got[kind] == expected[kind], kind
    assert Conversation.objects.count() == expected["conversation"]
    assert Identity.objects.filter(is_placeholder=False).count() == expected["described identity"]
    assert Identity.objects.get(external_id="-1").is_bot
    assert Channel.objects.get().name == folder
    assert run.source is not None and run.source.name == f"stackexchange:{folder}"
    # Only votes on posts missing from the dump (deleted ones) have no parent to link to.
    assert Interaction.objects.filter(kind__in=["answer", "comment"], parent=None).count() == 0
    unlinked_votes = Interaction.objects.filter(kind__in=["vote", "accepted"], parent=None)
    assert unlinked_votes.count() == expected["vote on a deleted post"]


@pytest.mark.django_db
def test_it_puts_answers_and_their_comments_and_acceptance_in_the_question(
    shared_data: Path,
) -> None:
    root = shared_data / CONLANG
    posts = {p["Id"]: p for p in rows(root, "Posts.xml")}
    import_export("stackexchange", root)

    for a in Interaction.objects.filter(kind="answer").select_related("conversation", "parent"):
        parent_id = posts[a.external_id.removeprefix("post:")]["ParentId"]
        assert a.conversation is not None and a.parent is not None
        assert a.conversation.external_id == a.parent.external_id == f"post:{parent_id}"
        assert a.parent.conversation_id == a.conversation_id

    on_answers = [c for c in rows(root, "Comments.xml") if posts[c["PostId"]]["PostTypeId"] == "2"]
    assert on_answers
    for c in on_answers:
        comment = Interaction.objects.select_related("conversation", "parent").get(
            external_id=f"comment:{c['Id']}"
        )
        assert comment.parent is not None and comment.parent.kind == "answer"
        assert comment.conversation is not None
        assert comment.conversation.external_id == f"post:{posts[c['PostId']]['ParentId']}"

    accepted = [v for v in rows(root, "Votes.xml") if v["VoteTypeId"] == "1"]
    assert accepted
    for v in accepted:
        vote = Interaction.objects.select_related("identity", "parent").get(
            external_id=f"vote:{v['Id']}"
        )
        asker = posts[posts[v["PostId"]]["ParentId"]]["OwnerUserId"]
        assert vote.kind == "accepted" and vote.identity is not None
        assert vote.identity.external_id == asker
        assert vote.parent is not None and vote.parent.kind == "answer"


@pytest.mark.django_db
def test_it_adds_nothing_on_reimport(shared_data: Path) -> None:
    root = shared_data / CONLANG
    import_export("stackexchange", root)
    before = (Interaction.objects.count(), Identity.objects.count(), Conversation.objects.count())

    again = import_export("stackexchange", root)

    assert again.counts["created"] == {} and again.counts["updated"] == {}
    after = (Interaction.objects.count(), Identity.objects.count(), Conversation.objects.count())
    assert after == before


@pytest.mark.django_db
def test_it_applies_an_edited_post_on_reimport(shared_data: Path, tmp_path: Path) -> None:
    root = tmp_path / "conlang"
    # copyfile, not copy2: the shared files are read-only and the copy must be editable.
    shutil.copytree(shared_data / CONLANG, root, copy_function=shutil.copyfile)
    import_export("stackexchange", root)
    posts = root / "Posts.xml"
    original = "&lt;p&gt;We anticipate conlang specialists"
    assert original in posts.read_text(encoding="utf-8-sig")
    posts.write_text(
        posts.read_text(encoding="utf-8-sig").replace(original, "&lt;p&gt;Edited: specialists"),
        encoding="utf-8",
    )

    run = import_export("stackexchange", root)

    assert run.counts["created"] == {}
    assert run.counts["updated"] == {"post": 1}
    assert Interaction.objects.get(external_id="post:1").text.startswith("<p>Edited: specialists")


@pytest.mark.django_db
def test_it_maps_deleted_users_bots_tag_wikis_and_urls(tmp_path: Path) -> None:
    root = write_dump(
        tmp_path / "tiny",
        Users=[
            {"Id": "-1", "DisplayName": "Community"},
            {"Id": "7", "DisplayName": "Ada"},
        ],
        Posts=[
            question("1", OwnerUserId="7", LastEditDate="2020-01-05T00:00:00.000"),
            answer("2", "1", OwnerDisplayName="gone user"),
            answer("3", "1"),
            # The placeholder wiki every new tag gets: skipped.
            {"Id": "4", "PostTypeId": "5", "CreationDate": "2020-01-01T00:00:00", "Body": ""},
            {
                "Id": "5",
                "PostTypeId": "4",
                "CreationDate": "2020-01-01T00:00:00",
                "Body": "Bikes &amp; <b>commuting</b>.",
                "OwnerUserId": "7",
            },
        ],
        Comments=[
            {
                "Id": "10",
                "PostId": "2",
                "Text": "Thanks",
                "CreationDate": "2020-01-03T00:00:00",
                "UserDisplayName": "gone user",
            },
            {"Id": "11", "PostId": "3", "Text": "?", "CreationDate": "2020-01-03T00:00:00"},
        ],
        Votes=[
            {"Id": "20", "PostId": "2", "VoteTypeId": "1", "CreationDate": "2020-01-04T00:00:00"},
            {
                "Id": "21",
                "PostId": "1",
                "VoteTypeId": "5",
                "CreationDate": "2020-01-04T00:00:00",
                "UserId": "7",
            },
            {"Id": "22", "PostId": "99", "VoteTypeId": "3", "CreationDate": "2020-01-04T00:00:00"},
        ],
        Badges=[{"Id": "30", "UserId": "7", "Name": "Teacher", "Date": "2020-01-06T12:00:00"}],
    )
    run = import_export(
        "stackexchange",
        root,
        source="tiny",
        options={"site": "Tiny", "url": "https://tiny.stackexchange.com/"},
    )

    assert run.rejected_count == 0
    assert kinds() == Counter(post=2, answer=2, comment=2, accepted=1, vote=2, badge=1), (
        "the empty tag wiki is skipped"
    )
    site = Channel.objects.get()
    assert (site.external_id, site.name, site.url) == (
        "site",
        "Tiny",
        "https://tiny.stackexchange.com",
    )
    ada = Identity.objects.get(external_id="7")
    assert ada.profile_url == "https://tiny.stackexchange.com/users/7" and not ada.is_bot
    assert Identity.objects.get(external_id="-1").is_bot
    gone = Identity.objects.get(external_id="name:gone user")
    assert gone.display_name == "gone user" and not gone.is_placeholder

    q = Interaction.objects.get(external_id="post:1")
    assert q.url == "https://tiny.stackexchange.com/q/1" and q.edited_at is not None
    assert q.conversation is not None and q.conversation.title == "Question 1"
    by_gone = Interaction.objects.filter(identity=gone).values_list("external_id", flat=True)
    assert sorted(by_gone) == ["comment:10", "post:2"]
    assert Interaction.objects.get(external_id="post:3").identity is None
    assert Interaction.objects.get(external_id="comment:11").identity is None

    wiki = Interaction.objects.get(external_id="post:5")
    assert wiki.kind == "post" and wiki.conversation is not None
    assert wiki.conversation.title == "Tag wiki excerpt: Bikes & commuting ."

    accepted = Interaction.objects.get(external_id="vote:20")
    assert accepted.identity_id == ada.id and accepted.conversation_id == q.conversation_id
    favorite = Interaction.objects.get(external_id="vote:21")
    assert (favorite.kind, favorite.text, favorite.identity_id) == ("vote", "Favorite", ada.id)
    orphan = Interaction.objects.get(external_id="vote:22")
    assert orphan.text == "DownMod" and orphan.conversation is None and orphan.identity is None
    badge = Interaction.objects.get(kind="badge")
    assert (badge.text, badge.identity_id, badge.conversation) == ("Teacher", ada.id, None)
    assert badge.created_at.isoformat() == "2020-01-06T12:00:00+00:00"


@pytest.mark.django_db
def test_it_rejects_a_row_without_id_and_imports_the_rest(tmp_path: Path) -> None:
    root = write_dump(
        tmp_path / "dump",
        Posts=[
            question("1"),
            {"PostTypeId": "2", "ParentId": "1", "CreationDate": "2020-01-02T00:00:00"},
            answer("3", "1", CreationDate="yesterday"),
            answer("4", "1"),
        ],
    )
    run = import_export("stackexchange", root)

    assert run.status == RunStatus.SUCCEEDED and run.rejected_count == 2
    rejected = {r.location: r.reason for r in RejectedRecord.objects.filter(run=run)}
    assert rejected == {
        "Posts.xml line 4": "a post has no Id",
        "Posts.xml line 5 (Id=3)": "a post needs an ISO 8601 CreationDate, not 'yesterday'",
    }
    assert sorted(Interaction.objects.values_list("external_id", flat=True)) == [
        "post:1",
        "post:4",
    ]


@pytest.mark.django_db
def test_it_names_the_file_and_line_of_broken_xml(tmp_path: Path) -> None:
    root = write_dump(
        tmp_path / "dump",
        Posts='<?xml version="1.0" encoding="utf-8"?>\n<posts>\n'
        '  <row Id="1" PostTypeId="1" CreationDate="2020-01-01T00:00:00" />\n'
        '  <row Id="2" PostTypeId="1 CreationDate="2020-01-01T00:00:00" />\n'
        "</posts>\n",
    )
    with pytest.raises(ImportFormatError) as error:
        import_export("stackexchange", root)

    assert "Posts.xml:line 4 column" in str(error.value)
    assert "expected well-formed XML" in str(error.value)
    assert ImportRun.objects.get().status == RunStatus.FAILED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "Posts.xml:line 1 column 0: expected well-formed XML (no element found"),
        ('<?xml version="1.0"?>\n<posts>\n  <row Id="1" />\n', "Posts.xml:line 4 column 0"),
        ('<?xml version="1.0"?>\n\n<users></users>\n', "Posts.xml:line 3: expected a <posts>"),
        (
            '<?xml version="1.0"?>\n<!DOCTYPE posts [<!ENTITY a "aaaa">]>\n<posts>&a;</posts>\n',
            "Posts.xml: expected a data dump without DTD or entity declarations",
        ),
    ],
    ids=["empty", "truncated", "wrong root", "entity"],
)
def test_it_refuses_an_unreadable_posts_file(tmp_path: Path, content: str, message: str) -> None:
    root = write_dump(tmp_path / "dump", Posts=content)
    with pytest.raises(ImportFormatError, match=message.replace("(", r"\(")):
        import_export("stackexchange", root)


@pytest.mark.django_db
def test_it_refuses_a_dump_without_posts(tmp_path: Path) -> None:
    root = write_dump(tmp_path / "dump", Users=[{"Id": "1", "DisplayName": "Ada"}])
    with pytest.raises(ImportFormatError, match=r"Posts\.xml: expected Posts\.xml"):
        import_export("stackexchange", root)
    with pytest.raises(ImportFormatError, match="expected the folder"):
        import_export("stackexchange", root / "Users.xml")


def test_it_reports_progress_in_bytes_of_the_files_it_reads(shared_data: Path) -> None:
    root = shared_data / CONLANG
    importer = StackExchangeImporter(root)
    records = importer.records()
    next(records)
    read = ("Users.xml", "Posts.xml", "Comments.xml", "Votes.xml", "Badges.xml")
    assert importer.progress.total == sum((root / name).stat().st_size for name in read)
    for _ in records:
        pass
    assert importer.progress.done == importer.progress.total
