"""WhatsApp webhook notifications into inbox rows.

Every POST is checked against X-Hub-Signature-256 (HMAC-SHA256 of the raw body with the app
secret, compared in constant time) before anything else: a missing or wrong signature gets
403 and nothing is stored. Malformed JSON with a valid signature gets 400. Every valid
notification gets 200 once its messages are stored (Meta retries anything else); a repeated
message id is dropped by the inbox. Status callbacks are logged; a failed delivery is told to
the newcomer's desk topic.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from aiohttp import web

from bot.queues import NAME, Inbox, Outbox, lane
from bot.router.operations import post_in_topic
from bot.store import Store

log = logging.getLogger(__name__)
CHANNEL = "whatsapp"  # conversations' `channel`; their `user_ref` is the wa_id (phone number)
SIGNATURE_HEADER = "X-Hub-Signature-256"
MEDIA_KINDS = ("image", "audio", "video", "document", "sticker")


def signature_of(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


class WhatsAppIntake:
    def __init__(self, inbox: Inbox, outbox: Outbox, store: Store, app_secret: str, verify_token: str):
        self.inbox = inbox
        self.outbox = outbox
        self.store = store
        self.app_secret = app_secret
        self.verify_token = verify_token

    async def handshake(self, request: web.Request) -> web.Response:
        """Meta's verification: the challenge echoed when the mode and token are right."""
        query = request.query
        if query.get("hub.mode") == "subscribe" and hmac.compare_digest(
                query.get("hub.verify_token", ""), self.verify_token):
            return web.Response(text=query.get("hub.challenge", ""))
        return web.Response(status=403)

    async def notification(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not hmac.compare_digest(request.headers.get(SIGNATURE_HEADER, ""),
                                   signature_of(body, self.app_secret)):
            log.warning("webhook: a POST without a valid signature (403)")
            return web.Response(status=403)
        try:
            notification = json.loads(body)
            values = [change["value"] for entry in notification["entry"] for change in entry["changes"]]
        except (ValueError, KeyError, TypeError):
            log.warning("webhook: a signed POST that is not a notification (400)")
            return web.Response(status=400)
        rows = [row for value in values for row in self._rows(value)]
        if rows:
            self.inbox.receive(rows)
        for value in values:
            self._statuses(value.get("statuses") or [])
        return web.Response()

    def _rows(self, value: dict) -> list[tuple[str, str, dict]]:
        """(key, lane, event) for each message of a notification."""
        rows = []
        names = {contact.get("wa_id"): contact.get("profile", {}).get("name") for contact in value.get("contacts") or []}
        for message in value.get("messages") or []:
            event = self._event(message)
            if event is not None:
                event[NAME] = names.get(message["from"])
                rows.append((f"{CHANNEL}:{message['id']}", lane(CHANNEL, event["user"]), event))
        return rows

    def _event(self, message: dict) -> dict | None:
        kind = message.get("type")
        newcomer = {"channel": CHANNEL, "user": message["from"], "app_language": None,
                    "message": {"whatsapp": message["id"]}}
        if kind == "text":
            return {"kind": "text", **newcomer, "text": message["text"]["body"]}
        if kind == "interactive":
            reply = message["interactive"].get("button_reply") or message["interactive"].get("list_reply")
            if not reply:
                return None
            # an unknown id (from before the store was reset, say) shows the menu again
            return {"kind": "button", **newcomer, "button": None,
                    "payload": self.store.button_payload(reply["id"]) or "/start"}
        if kind == "button":  # a quick reply of a template
            return {"kind": "text", **newcomer, "text": message["button"].get("text", "")}
        if kind in MEDIA_KINDS:  # its media id, so the desk can be shown the file itself
            newcomer["message"]["media"] = {"id": message[kind]["id"], "kind": kind_of(message),
                                            "caption": message[kind].get("caption")}
        return {"kind": "attachment", **newcomer, "description": describe(message)}

    def _statuses(self, statuses: list[dict]) -> None:
        """Sent, delivered and read are fine; a failed delivery is logged and, when the newcomer
        is with a volunteer, told in their topic."""
        for status in statuses:
            if status.get("status") != "failed":
                continue
            errors = ", ".join(f"{e.get('code')} {e.get('title') or e.get('message', '')}".strip()
                               for e in status.get("errors") or [])
            log.warning("WhatsApp could not deliver message %s: %s", status.get("id"), errors)
            conversation = self.store.conversation_if_any(CHANNEL, status.get("recipient_id", ""))
            thread = self.store.desk_thread(conversation.id) if conversation else None
            if thread is not None and self.store.active_handover(conversation.id):
                self.outbox.add([post_in_topic(conversation.id, thread,
                                               f"WhatsApp could not deliver a message to the newcomer ({errors}).")])


def kind_of(message: dict) -> str:
    """image, voice (an audio recorded in the app), audio, video, document, sticker, location, ..."""
    kind = message.get("type") or "attachment"
    return "voice" if kind == "audio" and message["audio"].get("voice") else kind


def describe(message: dict) -> str:
    """The stored stand-in for a message that is not text: `[image] its caption`."""
    content = message.get(message.get("type"))
    caption = content.get("caption") if isinstance(content, dict) else None
    return f"[{kind_of(message)}] {caption}" if caption else f"[{kind_of(message)}]"
