"""A fake WhatsApp Cloud API (Meta's Graph API) on 127.0.0.1, and Meta's side of the webhook, for
the tests of the WhatsApp channel.

The channel talks to `FakeGraphApi` over HTTP (point its `api_base_url` at `root`): it sends
messages (POST [/<version>]/<phone_number_id>/messages), uploads media (POST .../media), looks up
media (GET [/<version>]/<media_id>) and downloads it from the url that answer gives. The version
segment (v21.0) is optional. Every request needs `Authorization: Bearer <token>` (else 401, code 190).
Sends are checked as Meta checks them (missing fields, text and interactive limits, templates) and
refused with Meta's error JSON, `{"error": {"message", "type": "OAuthException", "code", ...}}`,
so a message Meta would refuse fails here too. A path not implemented here answers 404.

Tests check what the channel called with `calls`, `sent_to`, `wait_for` or `until`; `failed`
holds the requests answered with an error. `fail` answers the next message sends with a given
error (429 with code 130429, 500, ...); read receipts are not sends and are never failed by it.

The other direction, Meta calling the bot: the builders at the bottom return webhook
notifications shaped like the Cloud API's, `post_webhook` POSTs one to the bot signed with the app
secret as Meta does (X-Hub-Signature-256, HMAC-SHA256 of the exact body bytes), or with a forged
`signature`, and `verify_handshake` does the GET with which Meta verifies the webhook. The body is
serialised like Meta's: compact, non-ASCII as \\uXXXX and "/" as "\\/", so a bot that checks the
signature of re-serialised JSON instead of the raw bytes fails.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlencode, urlsplit

from bot.bench.fake_telegram import LocalServer

DEFAULT_TOKEN = "EAAG-TEST-ACCESS-TOKEN"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_PHONE_NUMBER = "15550783881"
WABA_ID = "102290129340398"
MESSAGE_TYPES = frozenset({"text", "interactive", "template", "image", "audio", "video", "document", "sticker"})
OTHER_INTERACTIVE_TYPES = frozenset({"cta_url", "location_request_message", "flow", "product", "product_list"})
STATUSES = ("sent", "delivered", "read", "failed")
_VERSION = re.compile(r"v\d+\.\d+")
# Default messages of the error codes tests inject most.
ERROR_MESSAGES = {130429: "(#130429) Rate limit hit", 131056: "(#131056) Pair rate limit hit",
                  131000: "Something went wrong", 1: "An unknown error occurred",
                  2: "Service temporarily unavailable", 131026: "Message undeliverable",
                  131047: "Re-engagement message"}


@dataclass
class Call:
    """One request the channel made: method, path (as sent), body (the JSON of a send, the form
    fields of an upload with the file as bytes, None for a GET) and when it was answered."""

    method: str
    path: str
    body: dict | None
    at: float = field(default_factory=time.monotonic, compare=False)

    @property
    def to(self) -> str | None:
        return (self.body or {}).get("to")

    @property
    def type(self) -> str | None:
        return (self.body or {}).get("type")

    @property
    def text(self) -> str | None:
        """The text a user reads first: text.body, interactive body.text or a media caption."""
        content = (self.body or {}).get(self.type) or {}
        if self.type == "text":
            return content.get("body")
        if self.type == "interactive":
            return (content.get("body") or {}).get("text")
        return content.get("caption")


class GraphError(Exception):
    """An error answer with HTTP `status`, in Meta's shape."""

    def __init__(self, status: int, code: int, message: str, subcode: int | None = None,
                 details: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.subcode, self.details = status, code, message, subcode, details

    def body(self) -> dict:
        error = {"message": self.message, "type": "OAuthException", "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        return {"error": error | {"fbtrace_id": "A" + secrets.token_urlsafe(16)[:22]}}


def _missing(param: str) -> GraphError:
    return GraphError(400, 100, f"(#100) The parameter {param} is required.")


def _invalid(details: str) -> GraphError:
    return GraphError(400, 131009, "(#131009) Parameter value is not valid", details=details)


def _length(what: str, value: object, most: int, least: int = 0) -> None:
    if not isinstance(value, str) or not least <= len(value) <= most:
        raise _invalid(f"{what} length invalid. Min length: {least}, Max length: {most}")


class FakeGraphApi:
    """The fake server and its state, all guarded by one Condition shared with the HTTP threads.

    `calls` holds the requests answered with success, in order; `failed` those answered with an
    error (injected with `fail`, refused by validation or the token check, or to unknown paths).
    `media` maps media ids to (bytes, mime type): added with `add_media` or uploaded.
    """

    def __init__(self, token: str = DEFAULT_TOKEN, phone_number_id: str = PHONE_NUMBER_ID):
        self.token, self.phone_number_id = token, phone_number_id
        self.calls: list[Call] = []
        self.failed: list[Call] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        self._cond = threading.Condition()
        self._failures: list[GraphError] = []
        self._sent: dict[str, list[Call]] = {}  # message sends, by wa_id
        self._media_ids = itertools.count(1_037_543_291_543_001)
        self._http: LocalServer | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeGraphApi:
        self._http = LocalServer(_handler_for(self), "fake-graph-api")
        return self

    def stop(self) -> None:
        if self._http:
            self._http.stop()
            self._http = None

    def __enter__(self) -> FakeGraphApi:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def root(self) -> str:
        return self._http.root

    # -- test side -------------------------------------------------------------------------------

    def add_media(self, media_id: str, data: bytes, mime_type: str) -> None:
        """Media a user sent: GET /<media_id> gives its url, the url gives `data`."""
        with self._cond:
            self.media[media_id] = (data, mime_type)

    def fail(self, n_times: int = 1, status: int = 429, error_code: int = 130429, message: str | None = None) -> None:
        """Answer the next `n_times` message sends with this error."""
        error = GraphError(status, error_code, message or ERROR_MESSAGES.get(error_code, "An unknown error occurred"))
        with self._cond:
            self._failures.extend([error] * n_times)

    def sent_to(self, wa_id: str) -> list[Call]:
        """The message sends to this number that were answered with success, in order."""
        with self._cond:
            return list(self._sent.get(_wa_id(wa_id), []))

    def clear_calls(self) -> None:
        with self._cond:
            self.calls.clear()
            self.failed.clear()
            self._sent.clear()

    def wait_for(self, predicate=lambda call: True, timeout: float = 15.0) -> Call:
        """The first successful call matching `predicate`, waiting up to `timeout` seconds for it."""
        with self._cond:
            if found := self._cond.wait_for(lambda: next((c for c in self.calls if predicate(c)), None), timeout):
                return found
            seen = "\n".join(f"  {c.method} {c.path} {c.body}" for c in self.calls) or "  (none)"
            failed = "".join(f"\n  FAILED {c.method} {c.path} {c.body}" for c in self.failed)
            raise AssertionError(f"no call matching within {timeout}s; calls seen:\n{seen}{failed}")

    async def until(self, predicate=lambda call: True, timeout: float = 15.0) -> Call:
        """`wait_for` without blocking the event loop the bot runs on."""
        return await asyncio.to_thread(self.wait_for, predicate, timeout)

    # -- server side -----------------------------------------------------------------------------

    def handle(self, method: str, path: str, authorization: str | None, body: dict | None) -> tuple[str, object]:
        """The answer to one request, (content type, JSON-able object or bytes); raises GraphError."""
        parts = [part for part in urlsplit(path).path.split("/") if part]
        if parts and _VERSION.fullmatch(parts[0]):
            parts = parts[1:]
        call = Call(method, path, body)
        with self._cond:
            try:
                if authorization != f"Bearer {self.token}":
                    raise GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token")
                answer = self._route(method, parts, body)
            except GraphError:
                self.failed.append(call)
                self._cond.notify_all()
                raise
            self.calls.append(call)
            if call.to and parts[-1] == "messages":
                self._sent.setdefault(_wa_id(call.to), []).append(call)
            self._cond.notify_all()
            return answer

    def _route(self, method: str, parts: list[str], body: dict | None) -> tuple[str, object]:
        if method == "GET" and len(parts) == 2 and parts[0] == "media-download":
            data, mime_type = self._media(parts[1])
            return mime_type, data
        if method == "GET" and len(parts) == 1:
            data, mime_type = self._media(parts[0])
            return "application/json", {
                "messaging_product": "whatsapp", "url": f"{self.root}/media-download/{parts[0]}",
                "mime_type": mime_type, "sha256": hashlib.sha256(data).hexdigest(), "file_size": len(data),
                "id": parts[0]}
        if method == "POST" and len(parts) == 2 and parts[1] in ("messages", "media"):
            if parts[0] != self.phone_number_id:
                raise GraphError(400, 100, f"Unsupported post request. Object with ID '{parts[0]}' does not exist, "
                                 "cannot be loaded due to missing permissions, or does not support this operation.",
                                 subcode=33)
            return "application/json", (self._send(body) if parts[1] == "messages" else self._upload(body))
        raise GraphError(404, 100, f"fake graph api: no {method} /{'/'.join(parts)}")

    def _media(self, media_id: str) -> tuple[bytes, str]:
        if media_id not in self.media:
            raise GraphError(404, 100, f"Unsupported get request. Object with ID '{media_id}' does not exist.",
                             subcode=33)
        return self.media[media_id]

    def _send(self, body: dict) -> dict:
        if body.get("status") == "read":  # read receipt (and typing indicator), not a send
            if not body.get("message_id"):
                raise _missing("message_id")
            return {"success": True}
        if self._failures:
            raise self._failures.pop(0)
        _validate(body)
        return {"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": _wa_id(body["to"])}],
                "messages": [{"id": new_wamid()}]}

    def _upload(self, fields: dict) -> dict:
        if fields.get("messaging_product") != "whatsapp":
            raise _missing("messaging_product")
        if not isinstance(fields.get("file"), bytes):
            raise _missing("file")
        media_id = str(next(self._media_ids))
        mime_type = fields.get("type") or fields.get("_file_type") or "application/octet-stream"
        self.media[media_id] = (fields["file"], mime_type)
        return {"id": media_id}


def _validate(body: dict) -> None:
    """Refuse a send as Meta would."""
    for key in ("messaging_product", "to", "type"):
        if not body.get(key):
            raise _missing(key)
    if body["messaging_product"] != "whatsapp":
        raise GraphError(400, 100, "(#100) Param messaging_product must be one of {WHATSAPP}")
    kind = body["type"]
    if kind not in MESSAGE_TYPES:
        raise GraphError(400, 100, f"(#100) Param type must be one of {{{', '.join(sorted(MESSAGE_TYPES)).upper()}}}")
    content = body.get(kind)
    if not isinstance(content, dict):
        raise _missing(kind)
    if kind == "text":
        if not (content.get("body") or "").strip():
            raise _missing("text['body']")
        if len(content["body"]) > 4096:
            raise GraphError(400, 100, "(#100) Param text['body'] must be at most 4096 characters long.")
    elif kind == "interactive":
        _validate_interactive(content)
    elif kind == "template":
        if not content.get("name"):
            raise _missing("template['name']")
        if not (content.get("language") or {}).get("code"):
            raise _missing("template['language']['code']")
    elif not content.get("id") and not content.get("link"):
        raise GraphError(400, 100, f"(#100) Param {kind} must have either id or link")


def _validate_interactive(interactive: dict) -> None:
    kind = interactive.get("type")
    body_text = (interactive.get("body") or {}).get("text", "")
    _length("Body text", body_text, 1024)
    header, footer = interactive.get("header") or {}, interactive.get("footer") or {}
    if header.get("type") == "text":
        _length("Header text", header.get("text"), 60, 1)
    if footer:
        _length("Footer text", footer.get("text"), 60, 1)
    action = interactive.get("action") or {}
    if kind in ("button", "list") and not body_text:
        raise _missing("interactive['body']")
    if kind == "button":
        buttons = action.get("buttons") or []
        if not 1 <= len(buttons) <= 3:
            raise _invalid("Buttons count invalid. Min: 1, Max: 3")
        replies = [button.get("reply") or {} for button in buttons]
        for reply in replies:
            _length("Button title", reply.get("title"), 20, 1)
            _length("Button id", reply.get("id"), 256, 1)
        for key in ("id", "title"):
            if len({reply[key] for reply in replies}) < len(replies):
                raise _invalid(f"Button {key} is duplicate")
    elif kind == "list":
        _length("Button text", action.get("button"), 20, 1)
        sections = action.get("sections") or []
        if not 1 <= len(sections) <= 10:
            raise _invalid("Sections count invalid. Min: 1, Max: 10")
        rows = [row for section in sections for row in section.get("rows") or []]
        if not 1 <= len(rows) <= 10:
            raise _invalid("Total row count exceed max allowed count: 10")
        for section in sections:
            if "title" in section or len(sections) > 1:
                _length("Section title", section.get("title"), 24, 1)
        for row in rows:
            _length("Row title", row.get("title"), 24, 1)
            _length("Row id", row.get("id"), 200, 1)
            if "description" in row:
                _length("Row description", row["description"], 72)
        if len({row["id"] for row in rows}) < len(rows):
            raise _invalid("Row id is duplicate")
    elif kind not in OTHER_INTERACTIVE_TYPES:
        raise _invalid(f"Interactive type invalid: {kind!r}")


def _wa_id(number: str) -> str:
    """The wa_id Meta answers for a `to`: the digits of the number."""
    return re.sub(r"\D", "", str(number))


def new_wamid() -> str:
    """A unique message id shaped like Meta's."""
    return "wamid.HBgL" + secrets.token_hex(24).upper()


def _parse_multipart(content_type: str, body: bytes) -> dict:
    """Form fields as strings, the uploaded file as bytes (its content type in `_file_type`)."""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields = {}
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        name = part.get_param("name", header="content-disposition")
        if part.get_filename() is not None:
            fields[name], fields["_file_type"] = payload, part.get_content_type()
        else:
            fields[name] = payload.decode()
    return fields


def _handler_for(api: FakeGraphApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects

        def do_GET(self):
            self._answer(None)

        def do_POST(self):
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            content_type = self.headers.get("Content-Type", "")
            if content_type.startswith("multipart/form-data"):
                self._answer(_parse_multipart(content_type, data))
                return
            try:
                body = json.loads(data or b"{}")
            except ValueError:
                body = None
            self._answer(body if isinstance(body, dict) else {"_unparsable": data.decode(errors="replace")})

        def _answer(self, body: dict | None) -> None:
            try:
                status, (content_type, result) = 200, api.handle(self.command, self.path,
                                                                  self.headers.get("Authorization"), body)
            except GraphError as error:
                status, content_type, result = error.status, "application/json", error.body()
            except Exception as error:  # a bug in the fake: fail loudly
                status, content_type, result = 500, "application/json", {"error": {
                    "message": f"fake graph api: {error!r}", "type": "OAuthException", "code": 1}}
            data = result if isinstance(result, bytes) else json.dumps(result).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format, *args):
            pass

    return Handler


# -- webhook side: notifications shaped like the Cloud API's, and Meta's requests to the bot -----

def _value(fields: dict) -> dict:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": DISPLAY_PHONE_NUMBER, "phone_number_id": PHONE_NUMBER_ID}}
    return {"object": "whatsapp_business_account",
            "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": value | fields}]}]}


def _incoming(wa_id: str, kind: str, content: dict, name: str = "Priya", message_id: str | None = None,
              user_id: str | None = None, context_id: str | None = None) -> dict:
    contact = {"profile": {"name": name}, "wa_id": wa_id} | ({"user_id": user_id} if user_id else {})
    message = {"from": wa_id, "id": message_id or new_wamid(), "timestamp": str(int(time.time())), "type": kind}
    if context_id:  # the bot's message the user answered (button and list replies)
        message["context"] = {"from": DISPLAY_PHONE_NUMBER, "id": context_id}
    return _value({"contacts": [contact], "messages": [message | {kind: content}]})


def text_message(wa_id: str, text: str, name: str = "Priya", message_id: str | None = None,
                 user_id: str | None = None) -> dict:
    """A text message from the user."""
    return _incoming(wa_id, "text", {"body": text}, name, message_id, user_id)


def button_reply(wa_id: str, button_id: str, title: str, name: str = "Priya", context_id: str | None = None) -> dict:
    """A tap on a reply button of the bot's message `context_id` (a fresh id unless given)."""
    return _incoming(wa_id, "interactive", {"type": "button_reply", "button_reply": {"id": button_id, "title": title}},
                     name, context_id=context_id or new_wamid())


def list_reply(wa_id: str, row_id: str, title: str, description: str | None = None, name: str = "Priya",
               context_id: str | None = None) -> dict:
    """A row picked from the list of the bot's message `context_id` (a fresh id unless given)."""
    row = {"id": row_id, "title": title} | ({"description": description} if description else {})
    return _incoming(wa_id, "interactive", {"type": "list_reply", "list_reply": row},
                     name, context_id=context_id or new_wamid())


_MEDIA = {"image": ("image", "image/jpeg"), "audio": ("audio", "audio/mpeg"),
          "voice": ("audio", "audio/ogg; codecs=opus"), "video": ("video", "video/mp4"),
          "document": ("document", "application/pdf"), "sticker": ("sticker", "image/webp")}


def media_message(wa_id: str, kind: str, media_id: str, caption: str | None = None, name: str = "Priya",
                  mime_type: str | None = None) -> dict:
    """An image, audio, voice (type audio, "voice": true), video, document or sticker message."""
    if kind not in _MEDIA:
        raise ValueError(f"unknown media kind {kind!r}; use one of {sorted(_MEDIA)}")
    type_, default_mime = _MEDIA[kind]
    content = {"mime_type": mime_type or default_mime, "sha256": hashlib.sha256(media_id.encode()).hexdigest(),
               "id": media_id}
    if caption is not None:
        content["caption"] = caption
    if kind == "voice":
        content["voice"] = True
    elif kind == "document":
        content["filename"] = "brief.pdf"
    elif kind == "sticker":
        content["animated"] = False
    return _incoming(wa_id, type_, content, name)


def location_message(wa_id: str, lat: float, lon: float, name: str = "Priya") -> dict:
    """A location the user shared."""
    return _incoming(wa_id, "location", {"latitude": lat, "longitude": lon}, name)


def contacts_message(wa_id: str, name: str = "Priya") -> dict:
    """A contact card the user shared."""
    card = {"name": {"formatted_name": "Anna de Vries", "first_name": "Anna", "last_name": "de Vries"},
            "phones": [{"phone": "+31 6 12345678", "wa_id": "31612345678", "type": "CELL"}]}
    return _incoming(wa_id, "contacts", [card], name)


def status_update(wa_id: str, message_id: str, status: str) -> dict:
    """A sent/delivered/read/failed status of the bot's message; failed carries error 131047."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; use one of {STATUSES}")
    entry = {"id": message_id, "status": status, "timestamp": str(int(time.time())), "recipient_id": wa_id}
    if status == "failed":
        entry["errors"] = [{"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
                            "error_data": {"details": "Message failed to send because more than 24 hours have "
                                                      "passed since the customer last replied to this number."},
                            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]
    return _value({"statuses": [entry]})


def serialise(notification: dict) -> bytes:
    """The body as Meta sends it: compact JSON, non-ASCII as \\uXXXX, "/" as "\\/"."""
    return json.dumps(notification, separators=(",", ":")).replace("/", "\\/").encode()


def sign(body: bytes, app_secret: str) -> str:
    """The X-Hub-Signature-256 header of `body`: "sha256=" + HMAC-SHA256 hex digest."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def _request(request: urllib.request.Request, timeout: float) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def post_webhook(url: str, notification: dict | bytes, app_secret: str | None = None,
                 signature: str | None = None, timeout: float = 10.0) -> tuple[int, str]:
    """POST a notification (or raw bytes) to the bot's webhook, signed with `app_secret` or carrying
    the explicit `signature`, or unsigned when neither is given; returns (status, text)."""
    body = notification if isinstance(notification, bytes) else serialise(notification)
    headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
    if signature is None and app_secret is not None:
        signature = sign(body, app_secret)
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return _request(urllib.request.Request(url, data=body, headers=headers, method="POST"), timeout)


def verify_handshake(url: str, mode: str, token: str, challenge: str, timeout: float = 10.0) -> tuple[int, str]:
    """Meta's verification GET: hub.mode, hub.verify_token and hub.challenge; returns (status, text)."""
    query = urlencode({"hub.mode": mode, "hub.verify_token": token, "hub.challenge": challenge})
    separator = "&" if urlsplit(url).query else "?"
    return _request(urllib.request.Request(f"{url}{separator}{query}", method="GET"), timeout)
