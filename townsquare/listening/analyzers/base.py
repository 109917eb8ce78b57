"""The analyzer interface.

An analyzer reads a batch of texts (with the language already detected, for those that need
it) and returns one JSON-serialisable dict per text. Its `name` and `version` are stored with
every value it produces, so a new version re-enriches only what an older one made.
Analyzers know text and nothing of platforms or the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

# The value of `label` when an analyzer cannot judge a text (e.g. a language it does not
# support): never a fake neutral.
UNSUPPORTED = "unsupported"


@dataclass(frozen=True, slots=True)
class TextItem:
    text: str
    # ISO 639-1 code from the language analyzer, or None when unknown / not yet detected.
    language: str | None = None
    # The language analyzer's confidence in `language`; None when a person set the language or
    # the caller did not detect it (the language is then taken as given).
    language_confidence: float | None = None


class Analyzer:
    name: ClassVar[str]
    version: ClassVar[str]

    def analyze(self, items: Sequence[TextItem]) -> list[dict[str, Any]]:
        """One result per item, in order. Must be deterministic and must not touch the network."""
        raise NotImplementedError
