"""A mail's own words: what its writer wrote, without the earlier mail it quotes ("On Mon, …
wrote:" and "> " lines) and without the signature, as GitHub's reply parser reads mail
(email-reply-parser, MIT). Inline answers between quotes are kept."""

from __future__ import annotations

from email_reply_parser import EmailReplyParser


def own_words(mail: str) -> str:
    """The mail's own words; empty when it only quotes."""
    return str(EmailReplyParser.parse_reply(mail.replace("\r\n", "\n")))
