"""The ways newcomers reach the engine: console, Telegram, WhatsApp."""
