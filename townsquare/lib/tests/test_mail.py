"""A mail's own words: the shortcut that skips the quoted tail gives the parser's answer."""

from __future__ import annotations

import mailbox
from pathlib import Path

from email_reply_parser import EmailReplyParser

from townsquare.lib.mail import _without_quoted_tail, own_words


def plain_bodies(archive: Path) -> list[str]:
    bodies: list[str] = []
    for path in sorted(archive.glob("*.txt")):
        for message in mailbox.mbox(path):
            for part in message.walk():
                payload = part.get_payload(decode=True)
                if part.get_content_type() == "text/plain" and isinstance(payload, bytes):
                    charset = part.get_content_charset() or "utf-8"
                    bodies.append(payload.decode(charset, "replace").replace("\r\n", "\n"))
    return bodies


def test_it_reads_every_real_mail_as_the_parser_does(shared_data: Path) -> None:
    bodies = plain_bodies(shared_data / "mbox_r_package_devel")
    assert len(bodies) > 1000

    different = [b for b in bodies if own_words(b) != EmailReplyParser.parse_reply(b)]
    shortened = [b for b in bodies if _without_quoted_tail(b) != b]

    assert different == []
    # The shortcut is taken (161 of 1,332: most of this list's mails end with its footer or
    # "[[alternative HTML version deleted]]" after their quotes, and are read whole).
    assert len(shortened) > 100


def test_it_cuts_only_a_tail_of_quotes_under_an_on_wrote_line() -> None:
    reply = "Thanks, that fixed it.\n\n-- \nAda\n\nOn Mon, 3 Jun 2024, Tom wrote:\n> Try -j1\n>\n"
    assert _without_quoted_tail(reply) == "Thanks, that fixed it.\n\n-- \nAda"
    assert own_words(reply) == "Thanks, that fixed it."
    # Inline answers: the text above the last quote is quoted itself, so nothing is cut.
    inline = "On Mon, Tom wrote:\n> Which version?\n4.4.1.\n> And the OS?\n"
    assert _without_quoted_tail(inline) == inline
    assert own_words(inline) == "4.4.1."
    # A "wrote:" above the cut: the parser rejoins headers across lines, so it reads it all.
    twice = "Bob wrote: see below\n\nOn Mon, Tom wrote:\n> hi\n"
    assert _without_quoted_tail(twice) == twice
    # Only quotes: nothing of the writer's own.
    assert own_words("On Mon, Tom wrote:\n> only quoted\n") == ""
