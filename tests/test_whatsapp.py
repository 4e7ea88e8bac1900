"""The WhatsApp channel end to end: signed webhook requests as Meta sends them into the real
aiohttp webhook, the real engine and store, replies to a fake Graph API over HTTP, and
handovers to the Telegram desk (the fake Bot API), whatever channel the newcomer used.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from contextlib import asynccontextmanager

import pytest

from bot.bench.fake_telegram import FakeBotApi, group_media, group_text
from bot.channels.telegram.app import TelegramChannel
from bot.channels.whatsapp.app import WEBHOOK_PATH, WhatsAppChannel
from bot.queues import Inbox
from bot.serve import connect_files
from bot.settings import WhatsAppSettings
from tests import fake_whatsapp
from tests.conversation_fixtures import TUESDAY_MORNING, make_engine
from tests.fake_whatsapp import (
    FakeGraphApi, button_reply, list_reply, media_message, post_webhook, status_update, text_message,
)
from tests.knowledge_fixtures import SHIPPED
from tests.telegram_fixtures import DESK, MovableClock, free_port, serving as serving_channels, telegram_settings

APP_SECRET = "app-secret-for-tests"
VERIFY_TOKEN = "verify-me"
TEMPLATE = "volunteer_answered"
SETTLE = 0.5
_numbers = itertools.count(31612345001)


async def _listening(port: int, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def graph():
    with FakeGraphApi() as server:
        yield server


@pytest.fixture(scope="module")
def telegram():
    with FakeBotApi() as server:
        yield server


@pytest.fixture(scope="module")
def clock():
    return MovableClock(TUESDAY_MORNING)


@pytest.fixture(scope="module")
def engine(trained_model, embedder, shared_data_dir, tmp_path_factory, clock):
    return make_engine(trained_model, SHIPPED, shared_data_dir, embedder, clock=clock,
                       store_dir=tmp_path_factory.mktemp("whatsapp-store"))


@asynccontextmanager
async def serving(graph, telegram, engine):
    """The WhatsApp and Telegram channels, delivery and a worker; yields the webhook's URL."""
    port = free_port()
    settings = WhatsAppSettings(token=fake_whatsapp.DEFAULT_TOKEN, phone_number_id=graph.phone_number_id,
                                app_secret=APP_SECRET, verify_token=VERIFY_TOKEN, webhook_listen="127.0.0.1",
                                webhook_port=port, api_base_url=graph.root, template_name=TEMPLATE,
                                template_language="en")
    whatsapp = WhatsAppChannel(settings, engine.store)
    desk = TelegramChannel(telegram_settings(telegram), engine.store)
    connect_files(desk, whatsapp)
    async with serving_channels(engine, [whatsapp, desk]):
        await telegram.until("setMyCommands", lambda call: "scope" in call.params)
        await _listening(port)
        yield f"http://127.0.0.1:{port}{WEBHOOK_PATH}"


class WhatsAppUser:
    def __init__(self, graph: FakeGraphApi, url: str):
        self.graph = graph
        self.url = url
        self.number = str(next(_numbers))

    async def send(self, notification: dict) -> int:
        status, _ = await asyncio.to_thread(post_webhook, self.url, notification, APP_SECRET)
        return status

    async def say(self, text: str) -> int:
        return await self.send(text_message(self.number, text))

    async def reply(self, predicate=lambda call: True, timeout: float = 20.0):
        return await self.graph.until(lambda c: c.to == self.number and predicate(c), timeout)

    async def reply_containing(self, fragment: str):
        return await self.reply(lambda c: fragment in (c.text or ""))


def buttons(call) -> list[tuple[str, str]]:
    """(id, title) of a reply-button or list message."""
    interactive = call.body["interactive"]
    if interactive["type"] == "button":
        return [(b["reply"]["id"], b["reply"]["title"]) for b in interactive["action"]["buttons"]]
    return [(row["id"], row["title"]) for section in interactive["action"]["sections"] for row in section["rows"]]


async def test_the_verification_handshake_echoes_the_challenge_only_with_the_right_token(graph, telegram, engine):
    async with serving(graph, telegram, engine) as url:
        assert await asyncio.to_thread(fake_whatsapp.verify_handshake, url, "subscribe", VERIFY_TOKEN, "1158201444") \
            == (200, "1158201444")
        status, _ = await asyncio.to_thread(fake_whatsapp.verify_handshake, url, "subscribe", "wrong", "1158201444")
        assert status == 403


async def test_forged_or_unsigned_posts_get_403_and_malformed_json_400_with_nothing_stored(graph, telegram, engine):
    async with serving(graph, telegram, engine) as url:
        person = WhatsAppUser(graph, url)
        notification = text_message(person.number, "where can I learn Dutch?")
        waiting = Inbox(engine.store.db).waiting
        rows_before = engine.store.db["inbox"].count
        assert (await asyncio.to_thread(post_webhook, url, notification, None, "sha256=" + "0" * 64))[0] == 403
        assert (await asyncio.to_thread(post_webhook, url, notification))[0] == 403
        assert (await asyncio.to_thread(post_webhook, url, b"{not json", APP_SECRET))[0] == 400
        assert engine.store.db["inbox"].count == rows_before and waiting() == 0
        await asyncio.sleep(SETTLE)
    assert graph.sent_to(person.number) == []


async def test_a_question_is_answered_with_reply_buttons_and_a_repeat_is_answered_once(graph, telegram, engine):
    async with serving(graph, telegram, engine) as url:
        person = WhatsAppUser(graph, url)
        notification = text_message(person.number, "how do I register with a huisarts?")
        assert await person.send(notification) == 200
        answer = await person.reply_containing("Did this help?")
        assert await person.send(notification) == 200  # Meta delivering the same message again
        titles = [title for _, title in buttons(answer)]
        assert titles[:2] == ["Yes", "No"]
        sent = graph.sent_to(person.number)
        assert "huisarts" in " ".join(call.text or "" for call in sent).lower()
        await person.send(button_reply(person.number, buttons(answer)[0][0], "Yes"))
        await person.reply_containing("Good to hear")
        await asyncio.sleep(SETTLE)
    assert sum("Did this help?" in (call.text or "") for call in graph.sent_to(person.number)) == 1


async def test_the_topic_menu_is_a_list_whose_rows_answer(graph, telegram, engine):
    async with serving(graph, telegram, engine) as url:
        person = WhatsAppUser(graph, url)
        await person.say("/start")
        menu = await person.reply(lambda c: c.type == "interactive")
        assert menu.body["interactive"]["type"] == "list"
        rows = dict((title, row_id) for row_id, title in buttons(menu))
        await person.send(list_reply(person.number, rows["Learn Dutch"], "Learn Dutch"))
        await person.reply(lambda c: "Taalhuis" in (c.text or ""))


async def test_a_handover_goes_to_the_telegram_desk_and_the_volunteer_answers_over_whatsapp(graph, telegram, engine):
    async with serving(graph, telegram, engine) as url:
        person = WhatsAppUser(graph, url)
        await person.say("/human")
        await person.reply_containing("I've asked a volunteer")
        card = await telegram.until("sendMessage", lambda c: c.params["chat_id"] == DESK
                                    and c.params["text"].startswith("Handover #")
                                    and f"phone ending {person.number[-3:]}" in c.params["text"])
        thread = card.params["message_thread_id"]
        assert telegram.calls_to("createForumTopic")[-1].params["name"].endswith("· WhatsApp")
        assert person.number not in card.params["text"]

        await person.say("my son needs a GP, we live near the Stadshart")
        await telegram.until("sendMessage", lambda c: c.params.get("message_thread_id") == thread
                             and "near the Stadshart" in c.params["text"])
        graph.add_media("media-1", b"\x89PNG the letter", "image/png")
        await person.send(media_message(person.number, "image", "media-1", caption="the letter"))
        photo = await telegram.until("sendPhoto", lambda c: c.params.get("message_thread_id") == thread)
        assert photo.params["photo"] == b"\x89PNG the letter" and photo.params["caption"] == "the letter"
        await person.send(media_message(person.number, "document", "media-unknown"))  # cannot be fetched
        await telegram.until("sendMessage", lambda c: c.params.get("message_thread_id") == thread
                             and c.params["text"] == "[document]")

        telegram.push(group_text(DESK, "Hello! I'll call a practice for you.", thread_id=thread, first_name="Sanne"))
        relayed = await person.reply_containing("call a practice")
        assert relayed.text.endswith("— Sanne, volunteer at the international desk")
        telegram.push(group_media(DESK, "photo", thread_id=thread, first_name="Sanne"))
        photo = await person.reply(lambda c: c.type == "image")
        assert photo.body["image"]["caption"] == "— Sanne, volunteer at the international desk"
        uploaded = graph.media[photo.body["image"]["id"]][0]
        assert uploaded.startswith(b"file-contents:photo-file-")
        telegram.push(group_text(DESK, "/close", thread_id=thread))
        await person.reply_containing("closed this conversation")


async def test_an_image_outside_a_handover_gets_a_text_only_reply(graph, telegram, engine):
    async with serving(graph, telegram, engine) as url:
        person = WhatsAppUser(graph, url)
        await person.send(media_message(person.number, "voice", "media-2"))
        reply = await person.reply_containing("only read text")
        assert [title for _, title in buttons(reply)] == ["Talk to a volunteer"]


async def test_a_failed_delivery_status_is_logged_and_told_to_the_desk(graph, telegram, engine, caplog):
    caplog.set_level(logging.WARNING)
    async with serving(graph, telegram, engine) as url:
        person = WhatsAppUser(graph, url)
        await person.say("/human")
        card = await telegram.until("sendMessage", lambda c: c.params["chat_id"] == DESK
                                    and f"phone ending {person.number[-3:]}" in c.params["text"])
        assert await person.send(status_update(person.number, "wamid.gone", "failed")) == 200
        assert await person.send(status_update(person.number, "wamid.fine", "delivered")) == 200
        await telegram.until("sendMessage", lambda c: c.params.get("message_thread_id") == card.params["message_thread_id"]
                             and "could not deliver" in c.params["text"])
    assert "131047" in caplog.text


async def test_outside_the_24_hour_window_a_reply_waits_for_the_newcomer_who_gets_the_template(
        graph, telegram, engine, clock):
    async with serving(graph, telegram, engine) as url:
        person = WhatsAppUser(graph, url)
        await person.say("/human")
        card = await telegram.until("sendMessage", lambda c: c.params["chat_id"] == DESK
                                    and f"phone ending {person.number[-3:]}" in c.params["text"])
        assert "WhatsApp window: open until Wed " in card.params["text"]  # 24 h after Tuesday's message
        thread = card.params["message_thread_id"]
        clock.advance(hours=25)
        telegram.push(group_text(DESK, "Sorry for the wait: the practice called back.", thread_id=thread))
        template = await person.reply(lambda c: c.type == "template")
        assert template.body["template"] == {"name": TEMPLATE, "language": {"code": "en"}}
        await telegram.until("sendMessage", lambda c: c.params.get("message_thread_id") == thread
                             and "window closed" in c.params["text"])
        await asyncio.sleep(SETTLE)
        assert not any("practice called back" in (c.text or "") for c in graph.sent_to(person.number))

        await person.say("hello? I'm here")
        relayed = await person.reply_containing("practice called back")
        assert relayed.text.endswith("volunteer at the international desk")
        await asyncio.sleep(SETTLE)
    assert [c.type for c in graph.sent_to(person.number)].count("template") == 1
