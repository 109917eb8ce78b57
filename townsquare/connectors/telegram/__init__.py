"""Telegram Desktop "Export chat history" JSON (result.json): one chat or a whole account."""
