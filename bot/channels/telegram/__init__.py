"""Telegram: newcomers in private chats, volunteers in the desk forum group."""
