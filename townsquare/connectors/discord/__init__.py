"""DiscordChatExporter JSON exports: one file per channel."""
