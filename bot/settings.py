"""Configuration from environment variables, with defaults that run locally with no set-up."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HUB_MODEL = "intfloat/multilingual-e5-small"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
STORE_FILE = "wegwijs.db"  # the conversation store, inbox and outbox
DIALOGUE_FILE = "dialogue.db"  # Rasa's tracker store, beside it


class SettingsError(ValueError):
    """An environment variable with a value that cannot be used."""


def _number(name: str, default: str, kind=int):
    value = os.environ.get(name, "").strip() or default
    try:
        return kind(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {value!r}") from None


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "wegwijs"


def _log_level() -> str:
    level = os.environ.get("WEGWIJS_LOG_LEVEL", "").strip().upper() or "INFO"
    if level not in LOG_LEVELS:
        raise SettingsError(f"WEGWIJS_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
    return level


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    desk_chat_id: int | None  # the volunteers' forum supergroup
    api_base_url: str | None  # None: Telegram's own Bot API
    webhook_url: str | None  # set together with webhook_secret: webhook mode, else polling
    webhook_secret: str | None
    webhook_listen: str
    webhook_port: int

    @property
    def uses_webhook(self) -> bool:
        return bool(self.webhook_url and self.webhook_secret)

    @classmethod
    def from_env(cls) -> "TelegramSettings | None":
        """The Telegram settings, or None when no bot token is set."""
        token = os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()
        if not token:
            return None
        return cls(
            token=token,
            desk_chat_id=_number("TELEGRAM_DESK_CHAT_ID", "0") or None,
            api_base_url=os.environ.get("TELEGRAM_API_BASE_URL") or None,
            webhook_url=os.environ.get("TELEGRAM_WEBHOOK_URL") or None,
            webhook_secret=os.environ.get("TELEGRAM_WEBHOOK_SECRET") or None,
            webhook_listen=os.environ.get("TELEGRAM_WEBHOOK_LISTEN", "127.0.0.1"),
            webhook_port=_number("TELEGRAM_WEBHOOK_PORT", "8443"),
        )


@dataclass(frozen=True)
class WhatsAppSettings:
    token: str
    phone_number_id: str
    app_secret: str  # signs every webhook POST (X-Hub-Signature-256)
    verify_token: str  # Meta's verification handshake
    webhook_listen: str
    webhook_port: int
    api_base_url: str  # the Graph API root
    template_name: str | None  # the approved template for outside the 24-hour window
    template_language: str

    REQUIRED = ("WHATSAPP_TOKEN", "WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN")

    @classmethod
    def from_env(cls) -> "WhatsAppSettings | None":
        """The WhatsApp settings, or None unless all four required variables are set."""
        values = {name: os.environ.get(name, "").strip() for name in cls.REQUIRED}
        if not all(values.values()):
            return None
        return cls(
            token=values["WHATSAPP_TOKEN"], phone_number_id=values["WHATSAPP_PHONE_NUMBER_ID"],
            app_secret=values["WHATSAPP_APP_SECRET"], verify_token=values["WHATSAPP_VERIFY_TOKEN"],
            webhook_listen=os.environ.get("WHATSAPP_WEBHOOK_LISTEN", "127.0.0.1"),
            webhook_port=_number("WHATSAPP_WEBHOOK_PORT", "8080"),
            api_base_url=(os.environ.get("WHATSAPP_API_BASE_URL") or "https://graph.facebook.com").rstrip("/"),
            template_name=os.environ.get("WHATSAPP_TEMPLATE_NAME") or None,
            template_language=os.environ.get("WHATSAPP_TEMPLATE_LANGUAGE") or "en",
        )


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    knowledge_dir: Path
    cache_dir: Path
    model: str  # a folder, or a hub model name such as intfloat/multilingual-e5-small
    rasa_model_dir: Path  # trained Rasa models (wegwijs train)
    handover_patience: dt.timedelta  # no volunteer reply by then: the newcomer is told
    telegram: TelegramSettings | None
    whatsapp: WhatsAppSettings | None = None
    workers: int = 2  # engine processes of `wegwijs serve` (one per core)
    retention: dt.timedelta = dt.timedelta(days=30)  # conversation data older than this is erased
    log_level: str = "INFO"

    @classmethod
    def from_env(cls) -> "Settings":
        cache_dir = Path(os.environ.get("WEGWIJS_CACHE_DIR", default_cache_dir()))
        return cls(
            data_dir=Path(os.environ.get("WEGWIJS_DATA_DIR", PROJECT_ROOT / "data")),
            knowledge_dir=Path(os.environ.get("WEGWIJS_KNOWLEDGE_DIR", PROJECT_ROOT / "knowledge")),
            cache_dir=cache_dir,
            model=os.environ.get("WEGWIJS_MODEL", str(cache_dir / "multilingual-e5-small")),
            rasa_model_dir=Path(os.environ.get("WEGWIJS_RASA_MODEL_DIR", PROJECT_ROOT / "models")),
            handover_patience=dt.timedelta(
                minutes=_number("WEGWIJS_HANDOVER_PATIENCE_MINUTES", "10", float)),
            telegram=TelegramSettings.from_env(),
            whatsapp=WhatsAppSettings.from_env(),
            workers=max(1, _number("WEGWIJS_WORKERS", "2")),
            retention=dt.timedelta(days=_number("WEGWIJS_RETENTION_DAYS", "30", float)),
            log_level=_log_level(),
        )

    @property
    def store_file(self) -> Path:
        return self.data_dir / STORE_FILE

    @property
    def dialogue_file(self) -> Path:
        return self.data_dir / DIALOGUE_FILE

    @property
    def built_model_dir(self) -> Path:
        """Where `wegwijs model build` writes the model converted from PyPI packages."""
        return self.cache_dir / "multilingual-e5-small"
