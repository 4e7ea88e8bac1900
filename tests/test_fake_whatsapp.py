"""The fake WhatsApp Cloud API itself, without the bot."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.fake_whatsapp import (DEFAULT_TOKEN, PHONE_NUMBER_ID, FakeGraphApi, button_reply, media_message,
                                 post_webhook, serialise, sign, status_update, text_message, verify_handshake)

WA = "31612345678"


@pytest.fixture
def api():
    with FakeGraphApi() as api:
        yield api


def request(api, method, path, body=None, token=DEFAULT_TOKEN, data=None, content_type="application/json"):
    """(status, decoded JSON or bytes) of one request to the fake."""
    if body is not None:
        data = json.dumps(body).encode()
    headers = {"Content-Type": content_type} | ({"Authorization": f"Bearer {token}"} if token else {})
    req = urllib.request.Request(api.root + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as response:
            status, raw, kind = response.status, response.read(), response.headers.get_content_type()
    except urllib.error.HTTPError as error:
        status, raw, kind = error.code, error.read(), error.headers.get_content_type()
    return status, json.loads(raw) if kind == "application/json" else raw


def send(api, message, version="/v21.0", **kwargs):
    return request(api, "POST", f"{version}/{PHONE_NUMBER_ID}/messages",
                   {"messaging_product": "whatsapp", "to": WA} | message, **kwargs)


def buttons(*titles):
    return {"type": "interactive", "interactive": {"type": "button", "body": {"text": "Kies"}, "action": {
        "buttons": [{"type": "reply", "reply": {"id": f"b{i}", "title": t}} for i, t in enumerate(titles)]}}}


def test_a_text_send_gets_a_wamid(api):
    status, answer = send(api, {"type": "text", "text": {"body": "Hallo!"}}, version="")
    assert status == 200
    assert answer["contacts"] == [{"input": WA, "wa_id": WA}]
    assert answer["messages"][0]["id"].startswith("wamid.")
    assert [call.text for call in api.sent_to(WA)] == ["Hallo!"]
    assert api.wait_for(lambda call: call.to == WA, timeout=1).type == "text"


def test_meta_limits_are_enforced(api):
    assert send(api, buttons("Ja", "Nee", "Misschien"))[0] == 200
    status, answer = send(api, buttons("a", "b", "c", "d"))
    assert status == 400
    assert answer["error"]["type"] == "OAuthException" and answer["error"]["fbtrace_id"]
    assert send(api, buttons("x" * 21))[0] == 400
    assert send(api, {"type": "text", "text": {"body": "x" * 4097}})[0] == 400
    status, answer = send(api, {"type": "text"} | {"text": {"body": "hi"}, "to": ""})
    assert (status, answer["error"]["code"]) == (400, 100)

    def listing(row_title):
        rows = [{"id": "r1", "title": row_title}]
        return {"type": "interactive", "interactive": {"type": "list", "body": {"text": "Kies"}, "action": {
            "button": "Opties", "sections": [{"title": "Onderwerpen", "rows": rows}]}}}

    assert send(api, listing("x" * 24))[0] == 200
    status, answer = send(api, listing("x" * 25))
    assert (status, answer["error"]["code"]) == (400, 131009)
    too_many = listing("r")
    too_many["interactive"]["action"]["sections"][0]["rows"] = [{"id": f"r{i}", "title": "r"} for i in range(11)]
    assert send(api, too_many)[0] == 400
    duplicate = buttons("Ja", "Nee")
    duplicate["interactive"]["action"]["buttons"][1]["reply"]["id"] = "b0"
    assert send(api, duplicate)[0] == 400
    assert send(api, {"type": "template", "template": {"name": "reopen"}})[0] == 400
    assert len(api.sent_to(WA)) == 2 and len(api.failed) == 8
    read = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X"}
    assert request(api, "POST", f"/{PHONE_NUMBER_ID}/messages", read) == (200, {"success": True})


def test_a_wrong_token_is_refused(api):
    status, answer = send(api, {"type": "text", "text": {"body": "hi"}}, token="wrong")
    assert (status, answer["error"]["code"], answer["error"]["type"]) == (401, 190, "OAuthException")
    assert request(api, "GET", "/v21.0/123", token=None)[0] == 401
    assert api.calls == []


def test_fail_then_success(api):
    api.fail(2, status=429, error_code=130429)
    text = {"type": "text", "text": {"body": "hi"}}
    assert [send(api, text)[0] for _ in range(3)] == [429, 429, 200]
    assert send(api, text)[0] == 200
    api.fail(status=500, error_code=131000)
    status, answer = send(api, text)
    assert (status, answer["error"]["code"]) == (500, 131000)
    assert len(api.failed) == 3 and len(api.sent_to(WA)) == 2


def test_media_upload_lookup_and_download(api):
    boundary = "wegwijs-boundary"
    data = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"messaging_product\"\r\n\r\nwhatsapp\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nimage/png\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"map.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + b"\x89PNG\x00\r\n" + f"\r\n--{boundary}--\r\n".encode()
    status, answer = request(api, "POST", f"/v21.0/{PHONE_NUMBER_ID}/media", data=data,
                             content_type=f"multipart/form-data; boundary={boundary}")
    assert status == 200
    status, info = request(api, "GET", f"/v21.0/{answer['id']}")
    assert status == 200 and info["mime_type"] == "image/png" and info["id"] == answer["id"]
    assert info["url"] == f"{api.root}/media-download/{answer['id']}"
    assert request(api, "GET", info["url"][len(api.root):]) == (200, b"\x89PNG\x00\r\n")
    assert request(api, "GET", info["url"][len(api.root):], token="wrong")[0] == 401

    api.add_media("778899", b"OggS", "audio/ogg")
    assert request(api, "GET", "/778899")[1]["mime_type"] == "audio/ogg"
    assert request(api, "GET", "/v21.0/404404")[0] == 404


def test_notifications_have_the_cloud_api_shape():
    message = text_message(WA, "Hoi", user_id="NL.123")["entry"][0]["changes"][0]["value"]
    assert message["contacts"] == [{"profile": {"name": "Priya"}, "wa_id": WA, "user_id": "NL.123"}]
    assert message["messages"][0]["text"] == {"body": "Hoi"} and message["messages"][0]["timestamp"].isdigit()
    assert text_message(WA, "a")["entry"][0]["changes"][0]["value"]["messages"][0]["id"] != \
        text_message(WA, "a")["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    reply = button_reply(WA, "yes", "Ja")["entry"][0]["changes"][0]["value"]["messages"][0]
    assert reply["interactive"] == {"type": "button_reply", "button_reply": {"id": "yes", "title": "Ja"}}
    voice = media_message(WA, "voice", "555")["entry"][0]["changes"][0]["value"]["messages"][0]
    assert voice["type"] == "audio" and voice["audio"]["voice"] is True and voice["audio"]["id"] == "555"
    failed = status_update(WA, "wamid.X", "failed")["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert failed["errors"][0]["code"] == 131047 and failed["recipient_id"] == WA


def test_sign_and_post_the_exact_bytes():
    notification = text_message(WA, "Café / ünïcode")
    body = serialise(notification)
    assert b"\\u00e9" in body and b"\\/" in body and json.loads(body) == notification
    assert sign(body, "s3cret") == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()

    received = []

    class Bot(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append((self.rfile.read(int(self.headers["Content-Length"])),
                             self.headers.get("X-Hub-Signature-256")))
            self._reply(200, b"EVENT_RECEIVED")

        def do_GET(self):
            self._reply(200, self.path.encode())

        def _reply(self, status, data):
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Bot)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/webhook"
    try:
        assert post_webhook(url, notification, app_secret="s3cret") == (200, "EVENT_RECEIVED")
        assert post_webhook(url, b"{}", signature="sha256=forged")[0] == 200
        status, text = verify_handshake(url, "subscribe", "tok en", "1158201444")
    finally:
        server.shutdown()
        server.server_close()
    assert received == [(body, sign(body, "s3cret")), (b"{}", "sha256=forged")]
    assert text == "/webhook?hub.mode=subscribe&hub.verify_token=tok+en&hub.challenge=1158201444"
