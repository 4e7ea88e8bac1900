"""Outbox operations as WhatsApp Cloud API calls (httpx), and its errors as retry or refusal.

A reply's buttons become reply buttons (at most 3, titles at most 20 characters) or, with
more options, a list (at most 10 rows, titles at most 24 characters); a body longer than an
interactive message allows (1,024) goes first as text, with its last paragraph (the question
the buttons answer) above the buttons. Texts are split at WhatsApp's 4,096 characters.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import httpx

from bot.channels.whatsapp.window import notice_due, window_closes, window_open
from bot.desk.cards import local_time
from bot.queues import Outbox
from bot.router.delivery import Refused, Retry
from bot.router.operations import post_in_topic
from bot.settings import WhatsAppSettings
from bot.store import Conversation, Store

log = logging.getLogger(__name__)
TEXT_LIMIT = 4096
BODY_LIMIT = 1024  # the body of an interactive message
BUTTONS_LIMIT, BUTTON_TITLE_LIMIT = 3, 20
ROWS_LIMIT, ROW_TITLE_LIMIT = 10, 24
LIST_BUTTON = {"en": "Choose", "nl": "Kies"}
RETRY_CODES = {4, 80007, 130429, 131048, 131056}  # rate limits: worth trying again later
API_VERSION = "v21.0"
UPLOAD_KINDS = {"photo": ("image", "image/jpeg"), "voice": ("audio", "audio/ogg"),
                "video": ("video", "video/mp4"), "document": ("document", "application/pdf"),
                "audio": ("audio", "audio/mpeg")}  # Telegram kind -> WhatsApp type, MIME type
HELD_SECONDS = 3600.0  # a message outside the window is looked at again (and when the newcomer writes)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Parts of at most `limit` characters, cut at a paragraph or line break where there is one."""
    parts = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        cut = cut if cut > limit // 2 else limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return parts + [text]


def interactive(body: str, buttons: list[list[str]], keys: list[str], language: str = "en") -> dict:
    """Reply buttons, or a list when there are more than three options."""
    if len(buttons) <= BUTTONS_LIMIT:
        return {"type": "button", "body": {"text": body}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": key, "title": _cut(title, BUTTON_TITLE_LIMIT)}}
            for (title, _), key in zip(buttons, keys)]}}
    rows = [{"id": key, "title": _cut(title, ROW_TITLE_LIMIT)}
            for (title, _), key in zip(buttons[:ROWS_LIMIT], keys)]
    return {"type": "list", "body": {"text": body}, "action": {
        "button": LIST_BUTTON.get(language, LIST_BUTTON["en"]), "sections": [{"rows": rows}]}}


class WhatsAppSender:
    def __init__(self, settings: WhatsAppSettings, store: Store, outbox: Outbox,
                 client: httpx.AsyncClient | None = None):
        self.settings = settings
        self.store = store
        self.outbox = outbox
        self.client = client or httpx.AsyncClient(timeout=30)
        # platform -> async (file id) -> bytes | None, for files volunteers send from the desk
        self.media_sources: dict[str, Callable[[str], Awaitable[bytes | None]]] = {}
        self.url = f"{settings.api_base_url}/{API_VERSION}/{settings.phone_number_id}/messages"

    async def execute(self, operation: dict) -> None:
        do, to = operation["do"], operation["to"]["newcomer"]["user"]
        conversation = self.store.conversation_if_any("whatsapp", to)
        if do in ("send", "copy") and conversation and not window_open(self.store, conversation):
            await self._outside_window(conversation)
            raise Retry("outside WhatsApp's 24-hour window: kept until the newcomer writes", HELD_SECONDS)
        if do == "send":
            await self._send(to, operation["text"], operation["buttons"])
        elif do == "copy":  # a volunteer's photo, voice note, ... from the Telegram desk
            await self._copy(to, operation)
        elif do == "answer_button" and operation["alert"]:  # no pop-up on WhatsApp: a message
            await self._post(to, {"type": "text", "text": {"body": operation["alert"]}})
        # an answer_button without an alert: WhatsApp has no spinner to stop

    async def _outside_window(self, conversation: Conversation) -> None:
        """Once per closed window: the approved template to the newcomer, and a word in the topic."""
        if not notice_due(self.store, conversation):
            return
        template = self.settings.template_name
        if template:
            await self._post(conversation.user_ref, {"type": "template", "template": {
                "name": template, "language": {"code": self.settings.template_language}}})
        self.store.record_window_notice(conversation.id)
        thread = self.store.desk_thread(conversation.id)
        if thread is None:
            return
        closed = local_time(window_closes(self.store, conversation))
        told = ("They were sent a notice to write back" if template else
                "No template is configured (WHATSAPP_TEMPLATE_NAME), so they were not told")
        self.outbox.add([post_in_topic(conversation.id, thread, (
            f"The newcomer's WhatsApp window closed at {closed} (24 hours after their last message). "
            f"{told}; what you write is delivered as soon as they do."))])

    async def _copy(self, to: str, operation: dict) -> None:
        """The file uploaded to WhatsApp and sent with its caption; a sticker, a location or a
        file that cannot be fetched as its stand-in text."""
        file = operation["message"].get("file")
        source = self.media_sources.get("telegram") if file else None
        data = await source(file["id"]) if source else None
        kind, mime = UPLOAD_KINDS.get(file["kind"], (None, None)) if file else (None, None)
        if data is None or kind is None:
            text = " ".join(part for part in (operation["text"], operation["caption"]) if part)
            await self._post(to, {"type": "text", "text": {"body": text}})
            return
        media_id = await self._upload(data, mime, file["kind"])
        content = {"id": media_id} | ({"caption": operation["caption"]} if operation["caption"] and kind != "audio" else {})
        await self._post(to, {"type": kind, kind: content})
        if operation["caption"] and kind == "audio":  # a voice note carries no caption
            await self._post(to, {"type": "text", "text": {"body": operation["caption"]}})

    async def _upload(self, data: bytes, mime: str, name: str) -> str:
        try:
            response = await self.client.post(
                f"{self.settings.api_base_url}/{API_VERSION}/{self.settings.phone_number_id}/media",
                data={"messaging_product": "whatsapp", "type": mime}, files={"file": (name, data, mime)},
                headers={"Authorization": f"Bearer {self.settings.token}"})
        except httpx.HTTPError as error:
            raise Retry(f"network: {error}") from error
        if response.status_code >= 300:
            raise Retry(f"media upload {response.status_code}")
        return response.json()["id"]

    async def fetch_media(self, media_id: str) -> bytes | None:
        """A newcomer's photo, voice note, ... from the Graph API (None when that fails)."""
        headers = {"Authorization": f"Bearer {self.settings.token}"}
        try:
            found = await self.client.get(f"{self.settings.api_base_url}/{API_VERSION}/{media_id}", headers=headers)
            found.raise_for_status()
            download = await self.client.get(found.json()["url"], headers=headers)
            download.raise_for_status()
        except (httpx.HTTPError, ValueError, KeyError) as error:
            log.warning("WhatsApp media %s could not be fetched: %s", media_id, error)
            return None
        return download.content

    async def refused(self, operation: dict, reason: str) -> None:
        log.warning("WhatsApp refused a message: %s", reason)

    async def _send(self, to: str, text: str, buttons: list[list[str]]) -> None:
        if not buttons:
            for part in split_text(text):
                await self._post(to, {"type": "text", "text": {"body": part}})
            return
        body = text
        if len(text) > BODY_LIMIT:  # the text first, the buttons under its last paragraph
            head, _, body = text.rpartition("\n\n")
            if not head or len(body) > BODY_LIMIT:
                head, body = text, "…"
            for part in split_text(head):
                await self._post(to, {"type": "text", "text": {"body": part}})
        keys = [self.store.button_key(payload) for _, payload in buttons]
        conversation = self.store.conversation_if_any("whatsapp", to)
        language = (conversation.chosen_language or conversation.language) if conversation else "en"
        await self._post(to, {"type": "interactive", "interactive": interactive(body, buttons, keys, language)})

    async def _post(self, to: str, message: dict) -> None:
        try:
            response = await self.client.post(
                self.url, json={"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **message},
                headers={"Authorization": f"Bearer {self.settings.token}"})
        except httpx.HTTPError as error:
            raise Retry(f"network: {error}") from error
        if response.status_code < 300:
            return
        error = _error(response)
        if response.status_code == 429 or response.status_code >= 500 or error.get("code") in RETRY_CODES:
            raise Retry(f"{response.status_code} {error.get('message', '')}".strip())
        raise Refused(f"{response.status_code} {error.get('code')} {error.get('message', '')}".strip())


def _error(response: httpx.Response) -> dict:
    try:
        return response.json().get("error") or {}
    except ValueError:
        return {}
