"""A mail's own words: what its writer wrote, without the earlier mail it quotes ("On Mon, …
wrote:" and "> " lines) and without the signature, as GitHub's reply parser reads mail
(email-reply-parser, MIT). Inline answers between quotes are kept."""

from __future__ import annotations

from email_reply_parser import EmailMessage, EmailReplyParser


def own_words(mail: str) -> str:
    """The mail's own words; empty when it only quotes."""
    return str(EmailReplyParser.parse_reply(_without_quoted_tail(mail.replace("\r\n", "\n"))))


def _without_quoted_tail(mail: str) -> str:
    """The mail without the earlier mail it quotes at its end, when that is the usual "On …
    wrote:" line followed by quoted and blank lines only: the parser hides all of it anyway,
    but reads it line by line with three patterns a line, and it is most of a reply (a
    thread's whole history, quoted again in every reply).

    Cut only where the parser's answer is the same without it (tested against every mail of
    the archives in ../shared/data): the line above the cut is not itself quoted, and what is
    kept holds no "wrote:" (the parser first rejoins the last "On … wrote:" header of the text
    that spans lines; that must stay one in the cut tail)."""
    lines = mail.split("\n")
    end = len(lines)
    while end and (not lines[end - 1].strip() or lines[end - 1].startswith(">")):
        end -= 1
    if end == 0 or end == len(lines):
        return mail
    header = lines[end - 1]
    if EmailMessage.QUOTE_HDR_REGEX.match(header) is None:
        return mail
    keep = end - 1
    while keep and not lines[keep - 1].strip():
        keep -= 1
    kept = "\n".join(lines[:keep])
    if "wrote:" in kept or (keep and lines[keep - 1].startswith(">")):
        return mail
    return kept
