"""A fake Telegram Bot API server on 127.0.0.1, for the tests of the Telegram channel and `wegwijs bench load`.

The real python-telegram-bot talks to it over HTTP (point `base_url`/`base_file_url` at it), so
the bot's own wiring is tested: tests `push` updates shaped like Telegram's JSON (see the builders
at the bottom), the bot fetches them with getUpdates, and tests check what the bot called with
`calls`, `wait_for` or `until`. Answers are full Bot API objects, so PTB parses them as it would
Telegram's. A method not implemented here answers 404, so a test fails loudly when the bot uses it.

Errors are injected two ways: `fail` answers the next calls of one method with a given error (for
tests), `inject_faults` answers a random share of the sending calls with 429 or 5xx (for the
benchmark). Each call records when it was answered (`Call.at`, time.monotonic()), so a benchmark in the
same process can time the bot.

Parameters arrive as strings (form-urlencoded, or multipart when files are sent); PTB JSON-encodes
every non-string value. Each value is JSON-decoded unless its key is in FREE_TEXT_KEYS, so ids,
flags, reply_markup and lists come back as Python values while text stays text even when it reads
like JSON ("42", "true"). A value that is not valid JSON (such as "@channel") stays a string.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import json
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

DEFAULT_TOKEN = "123456:TEST-TOKEN"
BOT_ID = 123456
BOT_USERNAME = "wegwijs_test_bot"
DEFAULT_ICON_COLOR = 7322096

# String-typed Bot API parameters: never JSON-decoded.
FREE_TEXT_KEYS = frozenset({
    "text", "caption", "name", "title", "description", "short_description", "parse_mode", "url",
    "secret_token", "callback_query_id", "inline_message_id", "action", "emoji", "query",
    "icon_custom_emoji_id", "language_code", "message_effect_id", "business_connection_id",
    "question", "explanation", "address", "phone_number", "first_name", "last_name", "vcard",
})
# The methods that send or edit a message in a chat: those `inject_faults` may fail.
SEND_METHODS = frozenset({"sendMessage", "copyMessage", "editMessageText", "editMessageReplyMarkup"})
# The methods whose calls count as a message to a chat (`sent_to`, `wait_sent_to`).
MESSAGE_METHODS = ("sendMessage", "copyMessage")


@dataclass
class Call:
    """One Bot API request the bot made: the method name, its decoded parameters and when it was
    answered (time.monotonic(); not compared, so calls compare by what was asked)."""

    method: str
    params: dict
    at: float = field(default_factory=time.monotonic, compare=False)


class ApiError(Exception):
    """An error answer: `{"ok": false, "error_code": code, "description": ...}` with HTTP status code."""

    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after

    def body(self) -> dict:
        body = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class RandomFaults:
    """Answers a share of the calls to `methods` with an error: 429 (retry after 1 s) at `rate_429`,
    500 or 502 at `rate_5xx`; `seed` makes the draws repeatable."""

    def __init__(self, rate_429: float, rate_5xx: float, seed: int | None = None,
                 methods: frozenset[str] = SEND_METHODS):
        if rate_429 < 0 or rate_5xx < 0 or rate_429 + rate_5xx > 1:
            raise ValueError("fault rates must be at least 0 and add up to at most 1")
        self.rate_429, self.rate_5xx, self.methods = rate_429, rate_5xx, methods
        self._random = random.Random(seed)

    def draw(self, method: str) -> ApiError | None:
        """The error for this call of `method`, or None to answer it normally."""
        if method not in self.methods:
            return None
        roll = self._random.random()
        if roll < self.rate_429:
            return ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        if roll < self.rate_429 + self.rate_5xx:
            return self._random.choice([ApiError(500, "Internal Server Error"), ApiError(502, "Bad Gateway")])
        return None


class FakeBotApi:
    """The fake server and its state. All state is guarded by one Condition, shared with the HTTP threads.

    `calls` holds the calls that were answered with ok, in order (getUpdates, the transport, is left
    out); `failed` holds calls answered with an error: injected with `fail` or `inject_faults`, or to
    unknown methods. `faults_injected` counts the errors `inject_faults` caused.
    """

    def __init__(self, token: str = DEFAULT_TOKEN, bot_id: int = BOT_ID, username: str = BOT_USERNAME):
        self.token = token
        self.bot_user = {"id": bot_id, "is_bot": True, "first_name": "Wegwijs", "username": username}
        self.calls: list[Call] = []
        self.failed: list[Call] = []
        self.faults_injected = 0
        self.webhook = {"url": "", "secret_token": None}
        self._cond = threading.Condition()
        self._updates: list[dict] = []
        self._next_update_id = 1
        self._allowed_updates: list[str] = []
        self._failures: dict[str, list[ApiError]] = {}
        self._random_faults: RandomFaults | None = None
        self._messages_by_chat: dict[object, list[Call]] = {}  # the MESSAGE_METHODS calls, by chat_id
        self._message_ids: dict[int, itertools.count] = {}
        self._topic_ids = itertools.count(100)
        self._stopped = False
        self._http: LocalServer | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeBotApi:
        self._http = LocalServer(_handler_for(self), "fake-bot-api")
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()  # ends long polls
        if self._http:
            self._http.stop()
            self._http = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"{self._http.root}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self._http.root}/file/bot"

    # -- test side -------------------------------------------------------------------------------

    def push(self, update: dict) -> int:
        """Queue an update for getUpdates; an update without update_id gets the next one."""
        with self._cond:
            update = dict(update)
            update.setdefault("update_id", self._next_update_id)
            self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
            self._updates.append(update)
            self._cond.notify_all()
            return update["update_id"]

    def fail(self, method: str, error_code: int = 429, description: str = "Too Many Requests: retry after 1",
             retry_after: int = 1, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with this error (retry_after is sent only for 429)."""
        error = ApiError(error_code, description, retry_after if error_code == 429 else None)
        with self._cond:
            self._failures.setdefault(method, []).extend([error] * times)

    def inject_faults(self, rate_429: float = 0.0, rate_5xx: float = 0.0, seed: int | None = None,
                      methods: frozenset[str] = SEND_METHODS) -> None:
        """From now on answer a random share of the calls to `methods` (by default the sending ones)
        with 429 "retry after 1" (`rate_429`) or with 500/502 (`rate_5xx`); rates 0 stop it."""
        faults = RandomFaults(rate_429, rate_5xx, seed, methods) if rate_429 or rate_5xx else None
        with self._cond:
            self._random_faults = faults

    def calls_to(self, method: str) -> list[Call]:
        with self._cond:
            return [call for call in self.calls if call.method == method]

    def sent_to(self, chat_id: int) -> list[Call]:
        """The sendMessage and copyMessage calls to this chat, in order."""
        with self._cond:
            return list(self._messages_by_chat.get(chat_id, []))

    def clear_calls(self) -> None:
        with self._cond:
            self.calls.clear()
            self.failed.clear()
            self._messages_by_chat.clear()

    def wait_for(self, method: str, predicate=lambda call: True, timeout: float = 15.0) -> Call:
        """The first recorded call of `method` matching `predicate`, waiting up to `timeout` seconds for it."""
        def match():
            return next((c for c in self.calls if c.method == method and predicate(c)), None)

        with self._cond:
            if found := self._cond.wait_for(match, timeout):
                return found
            seen = "\n".join(f"  {c.method} {c.params}" for c in self.calls) or "  (none)"
            failed = "".join(f"\n  FAILED {c.method} {c.params}" for c in self.failed)
            raise AssertionError(f"no {method} call matching within {timeout}s; calls seen:\n{seen}{failed}")

    async def until(self, method: str, predicate=lambda call: True, timeout: float = 15.0) -> Call:
        """`wait_for` without blocking the event loop the bot runs on."""
        return await asyncio.to_thread(self.wait_for, method, predicate, timeout)

    def wait_sent_to(self, chat_id: int, since: float, timeout: float,
                     predicate=lambda call: True) -> Call | None:
        """The first sendMessage or copyMessage to this chat answered at or after `since` (a
        time.monotonic() value) and matching `predicate`, waiting up to `timeout` seconds for
        it; None if none came."""
        def first():
            sent = self._messages_by_chat.get(chat_id, [])
            start = bisect.bisect_left(sent, since, key=lambda call: call.at)
            return next((call for call in sent[start:] if predicate(call)), None)

        with self._cond:
            return self._cond.wait_for(first, timeout)

        with self._cond:
            return self._cond.wait_for(first, timeout)

    # -- server side -----------------------------------------------------------------------------

    def handle(self, method: str, params: dict) -> object:
        """The result of one Bot API call, or ApiError."""
        with self._cond:
            if method == "getUpdates":
                return self._get_updates(params)
            implementation = getattr(self, f"_api_{method}", None)
            if implementation is None:
                self.failed.append(Call(method, params))
                self._cond.notify_all()
                raise ApiError(404, "Not Found: method not found")
            if failures := self._failures.get(method):
                self.failed.append(Call(method, params))
                raise failures.pop(0)
            if self._random_faults and (fault := self._random_faults.draw(method)):
                self.failed.append(Call(method, params))
                self.faults_injected += 1
                raise fault
            try:
                result = implementation(params)
            except KeyError as missing:
                self.failed.append(Call(method, params))
                raise ApiError(400, f"Bad Request: parameter {missing.args[0]} is required") from None
            call = Call(method, params)
            self.calls.append(call)
            if method in MESSAGE_METHODS:
                self._messages_by_chat.setdefault(params.get("chat_id"), []).append(call)
            self._cond.notify_all()
            return result

    def _get_updates(self, params: dict) -> list[dict]:
        """Drop updates below offset (confirmed, as Telegram does), long-poll up to 1s for new ones."""
        offset, limit = params.get("offset") or 0, params.get("limit") or 100
        if params.get("allowed_updates") is not None:
            self._allowed_updates = params["allowed_updates"]

        def ready():
            self._updates = [u for u in self._updates if u["update_id"] >= offset
                             and (not self._allowed_updates or any(kind in u for kind in self._allowed_updates))]
            return self._updates or self._stopped

        self._cond.wait_for(ready, min(params.get("timeout") or 0, 1.0))
        return self._updates[:limit]

    @staticmethod
    def _chat(chat_id: int) -> dict:
        """A private chat for positive ids, a forum supergroup for negative ones."""
        if not isinstance(chat_id, int):
            raise ApiError(400, "Bad Request: chat not found")
        return ({"id": chat_id, "type": "private", "first_name": "Priya"} if chat_id > 0
                else {"id": chat_id, "type": "supergroup", "title": "Wegwijs desk", "is_forum": True})

    def _message(self, chat_id: int, thread_id: int | None = None, message_id: int | None = None, **fields) -> dict:
        """A message from the bot; a new one (next id in its chat) unless message_id is given."""
        chat = self._chat(chat_id)
        if message_id is None:
            message_id = next(self._message_ids.setdefault(chat_id, itertools.count(1)))
        message = {"message_id": message_id, "date": int(time.time()), "chat": chat, "from": self.bot_user}
        if thread_id is not None:
            message.update(message_thread_id=thread_id, is_topic_message=True)
        markup = fields.pop("reply_markup", None)
        if markup and "inline_keyboard" in markup:  # Telegram echoes only inline keyboards
            message["reply_markup"] = markup
        return message | {k: v for k, v in fields.items() if v is not None}

    def _api_getFile(self, params):
        """Every file id can be downloaded: its contents are `file-contents:<file id>`."""
        return {"file_id": params["file_id"], "file_unique_id": f"unique-{params['file_id']}",
                "file_size": len(self.file_contents(params["file_id"])), "file_path": params["file_id"]}

    @staticmethod
    def file_contents(file_path: str) -> bytes:
        return f"file-contents:{file_path}".encode()

    def _api_getMe(self, params):
        return self.bot_user | {"can_join_groups": True, "can_read_all_group_messages": False,
                                "supports_inline_queries": False}

    def _api_deleteWebhook(self, params):
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {"url": "", "secret_token": None}
        return True

    def _api_setWebhook(self, params):
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token")}
        return True

    def _api_getWebhookInfo(self, params):
        return {"url": self.webhook["url"], "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    def _api_sendMessage(self, params):
        if not params.get("text", "").strip():
            raise ApiError(400, "Bad Request: message text is empty")
        return self._message(params["chat_id"], params.get("message_thread_id"), text=params["text"],
                             reply_markup=params.get("reply_markup"))

    def _api_send_file(self, params, kind: str, **details):
        """sendPhoto, sendDocument, ...: the upload (bytes, in `params[kind]`) is kept in the call."""
        if kind not in params:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        n = next(_ids)
        file = {"file_id": f"{kind}-sent-{n}", "file_unique_id": f"{kind}-sent-unique-{n}", **details}
        return self._message(params["chat_id"], params.get("message_thread_id"), caption=params.get("caption"),
                             **{kind: [file] if kind == "photo" else file})

    def _api_sendPhoto(self, params):
        return self._api_send_file(params, "photo", width=1280, height=960)

    def _api_sendDocument(self, params):
        return self._api_send_file(params, "document")

    def _api_sendVoice(self, params):
        return self._api_send_file(params, "voice", duration=3)

    def _api_sendVideo(self, params):
        return self._api_send_file(params, "video", width=640, height=480, duration=3)

    def _api_copyMessage(self, params):
        if not {"from_chat_id", "message_id"} <= params.keys():
            raise ApiError(400, "Bad Request: from_chat_id and message_id are required")
        return {"message_id": self._message(params["chat_id"], params.get("message_thread_id"))["message_id"]}

    def _api_editMessageText(self, params):
        if "inline_message_id" in params:
            return True
        return self._message(params["chat_id"], message_id=params["message_id"], text=params["text"],
                             edit_date=int(time.time()), reply_markup=params.get("reply_markup"))

    def _api_editMessageReplyMarkup(self, params):
        if "inline_message_id" in params:
            return True
        return self._message(params["chat_id"], message_id=params["message_id"], edit_date=int(time.time()),
                             reply_markup=params.get("reply_markup"))

    def _api_createForumTopic(self, params):
        return {"message_thread_id": next(self._topic_ids), "name": params["name"],
                "icon_color": params.get("icon_color", DEFAULT_ICON_COLOR)}

    def _api_getChat(self, params):
        gifts = dict.fromkeys(["unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription",
                               "gifts_from_channels"], False)  # required by PTB's ChatFullInfo, like the next two
        return self._chat(params["chat_id"]) | {"accent_color_id": 0, "max_reaction_count": 11,
                                                "accepted_gift_types": gifts}

    def _ok(self, params):
        return True

    _api_setMyCommands = _api_answerCallbackQuery = _api_sendChatAction = _ok
    _api_editForumTopic = _api_closeForumTopic = _api_reopenForumTopic = _api_deleteForumTopic = _ok
    _api_close = _api_logOut = _api_leaveChat = _ok


def _decode(params: dict) -> dict:
    decoded = {}
    for key, value in params.items():
        if isinstance(value, str) and key not in FREE_TEXT_KEYS:
            try:
                value = json.loads(value)
            except ValueError:
                pass
        decoded[key] = value
    return decoded


def _parse_multipart(content_type: str, body: bytes) -> dict:
    """Form fields as strings, uploaded files as bytes."""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    params = {}
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        name = part.get_param("name", header="content-disposition")
        params[name] = payload if part.get_filename() else payload.decode()
    return params


class _QuietServer(ThreadingHTTPServer):
    """Says nothing when a client drops its connection (a bot killed in the middle of a request)."""

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LocalServer:
    """A fake's HTTP server: a free port of 127.0.0.1, served from a thread of its own."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], name: str):
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)
        self._thread.start()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler_for(api: FakeBotApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            content_type = self.headers.get("Content-Type", "")
            if content_type.startswith("multipart/form-data"):
                params = _parse_multipart(content_type, body)
            else:
                params = dict(parse_qsl(body.decode(), keep_blank_values=True))
            self._answer(params)

        def do_GET(self):
            """A file download: /file/bot<token>/<file_path> (see getFile)."""
            path = unquote(urlsplit(self.path).path)  # PTB quotes the token's ":"
            prefix = f"/file/bot{api.token}/"
            data = api.file_contents(path[len(prefix):]) if path.startswith(prefix) else None
            self.send_response(200 if data is not None else 404)
            self.send_header("Content-Length", str(len(data or b"")))
            self.end_headers()
            self.wfile.write(data or b"")

        def _answer(self, params: dict) -> None:
            path = urlsplit(self.path).path
            prefix = f"/bot{api.token}/"
            try:
                if not path.startswith(prefix):
                    raise ApiError(401 if path.startswith("/bot") else 404,
                                   "Unauthorized" if path.startswith("/bot") else "Not Found")
                body, status = {"ok": True, "result": api.handle(path[len(prefix):], _decode(params))}, 200
            except ApiError as error:
                body, status = error.body(), error.code
            except Exception as error:  # a bug in the fake: fail loudly
                body, status = {"ok": False, "error_code": 500, "description": f"fake bot api: {error!r}"}, 500
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, e.g. PTB cancelling a long poll when polling stops

        def log_message(self, format, *args):
            pass

    return Handler


# -- update builders: dicts shaped like Telegram's JSON, without update_id (push assigns it) -----

_ids = itertools.count(1)  # message ids and file ids of incoming updates
_callback_ids = itertools.count(4_382_910_000_000_000_001)


def _user(user_id: int, first_name: str, last_name: str | None = None, language_code: str | None = None) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": first_name}
    if last_name:
        user["last_name"] = last_name
    if language_code:
        user["language_code"] = language_code
    return user


def _text_fields(text: str) -> dict:
    """`text`, plus the bot_command entity PTB's CommandHandler looks for when it starts with '/'."""
    fields = {"text": text}
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        fields["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}]
    return fields


def _media_fields(kind: str) -> dict:
    n = next(_ids)
    ids = {"file_id": f"{kind}-file-{n}", "file_unique_id": f"{kind}-unique-{n}"}
    media = {
        "photo": [ids | {"width": 90, "height": 67}, {"file_id": f"{kind}-file-{n}-large",
                                                      "file_unique_id": f"{kind}-unique-{n}-large",
                                                      "width": 1280, "height": 960}],
        "voice": ids | {"duration": 3, "mime_type": "audio/ogg"},
        "sticker": ids | {"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False},
        "document": ids | {"file_name": "brief.pdf", "mime_type": "application/pdf"},
        "location": {"latitude": 52.0907, "longitude": 5.1214},
    }
    if kind not in media:
        raise ValueError(f"unknown media kind {kind!r}; use one of {sorted(media)}")
    return {kind: media[kind]}


def _private(user_id: int, first_name: str, language_code: str | None, fields: dict) -> dict:
    return {"message": {"message_id": next(_ids), "date": int(time.time()),
                        "chat": {"id": user_id, "type": "private", "first_name": first_name},
                        "from": _user(user_id, first_name, language_code=language_code)} | fields}


def _group(chat_id: int, thread_id: int | None, user: dict, fields: dict) -> dict:
    message = {"message_id": next(_ids), "date": int(time.time()), "from": user,
               "chat": {"id": chat_id, "type": "supergroup", "title": "Wegwijs desk", "is_forum": True}}
    if thread_id is not None:
        message.update(message_thread_id=thread_id, is_topic_message=True)
    return {"message": message | fields}


def private_text(user_id: int, text: str, first_name: str = "Priya", language_code: str = "en") -> dict:
    """A text message in the private chat with the user (chat id = user id)."""
    return _private(user_id, first_name, language_code, _text_fields(text))


def private_media(user_id: int, kind: str, first_name: str = "Priya") -> dict:
    """A photo, voice, sticker, document or location message in the private chat."""
    return _private(user_id, first_name, None, _media_fields(kind))


def callback(user_id: int, data: str, message_id: int = 1, first_name: str = "Priya") -> dict:
    """A button press on the bot's message `message_id` in the private chat."""
    message = {"message_id": message_id, "date": int(time.time()), "text": "…",
               "chat": {"id": user_id, "type": "private", "first_name": first_name},
               "from": {"id": BOT_ID, "is_bot": True, "first_name": "Wegwijs", "username": BOT_USERNAME}}
    return {"callback_query": {"id": str(next(_callback_ids)), "from": _user(user_id, first_name),
                               "chat_instance": f"-{user_id}4242", "data": data, "message": message}}


def group_text(chat_id: int, text: str, thread_id: int | None = None, user_id: int = 777,
               first_name: str = "Anna", last_name: str = "de Vries") -> dict:
    """A text message in the forum supergroup, in topic `thread_id` when given."""
    return _group(chat_id, thread_id, _user(user_id, first_name, last_name), _text_fields(text))


def group_media(chat_id: int, kind: str, thread_id: int | None = None, user_id: int = 777,
                first_name: str = "Anna") -> dict:
    """A photo, voice, sticker, document or location message in the forum supergroup."""
    return _group(chat_id, thread_id, _user(user_id, first_name), _media_fields(kind))
