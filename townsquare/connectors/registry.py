"""The formats Townsquare imports: format name → dotted path of its importer class.

Importers are imported on first use, so one broken or heavy connector never slows the others.
"""

from __future__ import annotations

from importlib import import_module

from townsquare.connectors.base import Importer

IMPORTERS: dict[str, str] = {
    "slack": "townsquare.connectors.slack.importer.SlackImporter",
    "stackexchange": "townsquare.connectors.stackexchange.importer.StackExchangeImporter",
    "github": "townsquare.connectors.github.importer.GitHubImporter",
    "mastodon": "townsquare.connectors.mastodon.importer.MastodonImporter",
    "mbox": "townsquare.connectors.mbox.importer.MboxImporter",
    "discord": "townsquare.connectors.discord.importer.DiscordImporter",
    "telegram": "townsquare.connectors.telegram.importer.TelegramImporter",
    "csv": "townsquare.connectors.generic.importer.CsvImporter",
    "jsonl": "townsquare.connectors.generic.importer.JsonlImporter",
}


class UnknownFormat(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown format {name!r}; expected one of: {', '.join(IMPORTERS)}")


def get_importer_class(name: str) -> type[Importer]:
    try:
        dotted = IMPORTERS[name]
    except KeyError:
        raise UnknownFormat(name) from None
    module_name, class_name = dotted.rsplit(".", 1)
    cls: type[Importer] = getattr(import_module(module_name), class_name)
    return cls
