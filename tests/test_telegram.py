"""The Telegram channel end to end: the real python-telegram-bot polling a fake Bot API
server over HTTP, the real engine (trained Rasa model, multilingual model) and a real
SQLite store. Each test is one newcomer (their own chat id) and, where needed, the desk.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import time
import urllib.error
import urllib.request

import pytest

from tests.conversation_fixtures import TUESDAY_MORNING, make_engine
from bot.bench.fake_telegram import FakeBotApi, callback, group_media, group_text, private_media, private_text
from tests.knowledge_fixtures import SHIPPED
from tests.store_fixtures import every_cell
from tests.telegram_fixtures import DESK, MovableClock, TelegramUser, button_titles, free_port, start_bot

OTHER_GROUP = -1009999999999
SETTLE = 0.5  # seconds to let a wrongly sent reply arrive before checking there is none
_user_ids = itertools.count(5001)
GP_QUESTION = "how do I register with a huisarts?"


@pytest.fixture(scope="module")
def api():
    with FakeBotApi() as server:
        yield server


@pytest.fixture(scope="module")
def clock():
    return MovableClock(TUESDAY_MORNING)


@pytest.fixture(scope="module")
def engine(trained_model, embedder, shared_data_dir, tmp_path_factory, clock):
    return make_engine(trained_model, SHIPPED, shared_data_dir, embedder, clock=clock,
                       store_dir=tmp_path_factory.mktemp("telegram-store"))


@pytest.fixture
def newcomer(api):
    return TelegramUser(api, next(_user_ids))


def handover_of(engine, newcomer):
    conversation = engine.store.conversation("telegram", str(newcomer.id))
    return engine.store.active_handover(conversation.id)


async def open_handover(api, engine, newcomer, question: str):
    """The newcomer asks a question, then for a volunteer: returns the card the desk got."""
    newcomer.say(question)
    await newcomer.reply_containing("Did this help?")
    newcomer.say("/human")
    await newcomer.reply_containing("I've asked a volunteer")
    handover = handover_of(engine, newcomer)
    return await api.until("sendMessage", lambda c: c.params["chat_id"] == DESK
                           and c.params["text"].startswith(f"Handover #{handover.id}\n"))


async def handover_thread(api, engine, newcomer, question: str = GP_QUESTION) -> int:
    """The desk topic of a new handover."""
    return (await open_handover(api, engine, newcomer, question)).params["message_thread_id"]


async def closed_handover_thread(api, engine, newcomer) -> int:
    """The desk topic of a handover a volunteer has closed."""
    thread = await handover_thread(api, engine, newcomer)
    await desk_says(api, "/close", thread)
    await api.until("closeForumTopic", lambda c: c.params["message_thread_id"] == thread)
    return thread


async def desk_says(api, text: str, thread: int | None, chat: int = DESK, first_name: str = "Anna"):
    api.push(group_text(chat, text, thread_id=thread, first_name=first_name))


async def desk_reply(api, thread: int, fragment: str):
    return await api.until("sendMessage", lambda c: c.params["chat_id"] == DESK
                           and c.params.get("message_thread_id") == thread and fragment in c.params["text"])


async def test_an_answer_is_one_message_with_its_source_and_inline_feedback_buttons(api, engine, newcomer):
    async with start_bot(api, engine):
        newcomer.say(GP_QUESTION)
        feedback = await newcomer.reply_containing("Did this help?")
        assert newcomer.received() == [feedback]
        assert "https://" in feedback.params["text"]
        assert button_titles(feedback)[:2] == ["Yes", "No"]
        assert all(len(b["callback_data"].encode()) <= 64
                   for row in feedback.params["reply_markup"]["inline_keyboard"] for b in row)
        newcomer.press(feedback, "Yes")
        await newcomer.reply_containing("Good to hear")
        assert api.calls_to("answerCallbackQuery")


async def test_a_rate_limit_is_waited_out_and_a_server_error_retried_without_losing_or_repeating(
        api, engine, newcomer):
    async with start_bot(api, engine):
        api.fail("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2)
        api.fail("sendMessage", 502, "Bad Gateway")
        asked = time.monotonic()
        newcomer.say(GP_QUESTION)
        answer = await newcomer.reply_containing("Did this help?")
        assert time.monotonic() - asked >= 2, "sent again before Telegram's retry_after"
        await asyncio.sleep(SETTLE)
    assert newcomer.received() == [answer]
    assert [call.params["chat_id"] for call in api.failed] == [newcomer.id, newcomer.id]


async def test_start_shows_the_topic_menu_whose_buttons_answer(api, engine, newcomer):
    async with start_bot(api, engine):
        newcomer.say("/start")
        menu = await newcomer.reply(lambda c: "reply_markup" in c.params)
        assert "Learn Dutch" in button_titles(menu) and "Talk to a volunteer" in button_titles(menu)
        newcomer.press(menu, "Learn Dutch")
        answer = await newcomer.reply_containing("Did this help?")
        assert "Taalhuis" in answer.params["text"]


async def test_start_on_a_dutch_phone_greets_in_dutch(api, engine, newcomer):
    async with start_bot(api, engine):
        api.push(private_text(newcomer.id, "/start", language_code="nl"))
        menu = await newcomer.reply(lambda c: "reply_markup" in c.params)
        assert "Nederlands leren" in button_titles(menu)


async def test_handover_from_question_to_desk_topic_and_back_to_the_bot(api, engine, newcomer):
    async with start_bot(api, engine):
        card = await open_handover(api, engine, newcomer, GP_QUESTION)
        thread = card.params["message_thread_id"]
        handover = handover_of(engine, newcomer)
        title = f"#{handover.id} · GP · EN · Telegram"
        assert api.calls_to("createForumTopic")[-1].params == {"chat_id": DESK, "name": title}
        assert "Name: Priya (as Telegram gives it; not stored)" in card.params["text"]
        await asyncio.sleep(SETTLE)  # the card's outbox row is marked sent
        assert "Priya" not in every_cell(engine.store.path.parent)
        for line in ("Language: English (en)", "Topic: GP", "Channel: Telegram", "Desk: ",
                     f"Question: {GP_QUESTION}", "Wegwijs answered: "):
            assert line in card.params["text"]

        sent_before = len(newcomer.received())
        newcomer.say("Are you there? I have been waiting for a GP for weeks")
        await api.until("copyMessage", lambda c: c.params["chat_id"] == DESK
                        and c.params["message_thread_id"] == thread and c.params["from_chat_id"] == newcomer.id)
        await asyncio.sleep(SETTLE)
        assert len(newcomer.received()) == sent_before, "the bot answered during the handover"

        await desk_says(api, "Hi! I'm calling a practice near you now.", thread)
        relayed = await newcomer.reply_containing("calling a practice")
        assert relayed.params["text"].endswith("— Anna, volunteer at the international desk")
        assert "de Vries" not in relayed.params["text"]

        await desk_says(api, "/claim", thread)
        await desk_reply(api, thread, "Anna has this conversation")
        await desk_says(api, "/note practice Westwijk calls back on Monday", thread)
        await desk_reply(api, thread, "Note saved")
        await desk_says(api, "/transcript", thread)
        transcript = await desk_reply(api, thread, "Transcript")
        for fragment in ("Newcomer: Are you there?", "Anna (volunteer): Hi!", "Note by Anna: practice Westwijk"):
            assert fragment in transcript.params["text"]
        assert not any("Westwijk" in c.params["text"] for c in newcomer.received())

        await desk_says(api, "/queue", None)
        queue = await api.until("sendMessage", lambda c: c.params["chat_id"] == DESK
                                and title in c.params["text"])
        assert "claimed by Anna" in queue.params["text"]
        await desk_says(api, "/stats", None)
        stats = await api.until("sendMessage", lambda c: c.params["chat_id"] == DESK
                                and c.params["text"].startswith("Today (24 November 2026)"))
        assert "handovers opened: " in stats.params["text"] and "answer: " in stats.params["text"]

        await desk_says(api, "/close", thread)
        await newcomer.reply_containing("closed this conversation")
        await api.until("closeForumTopic", lambda c: c.params["message_thread_id"] == thread)
        assert handover_of(engine, newcomer) is None

        newcomer.say("where can I learn Dutch?")
        await newcomer.reply(lambda c: "Taalhuis" in c.params["text"])


async def test_a_second_handover_reuses_the_newcomers_topic(api, engine, newcomer):
    async with start_bot(api, engine):
        thread = await closed_handover_thread(api, engine, newcomer)
        newcomer.say("/human")
        await api.until("reopenForumTopic", lambda c: c.params["message_thread_id"] == thread)
        second = handover_of(engine, newcomer)
        await desk_reply(api, thread, f"Handover #{second.id}")
        assert api.calls_to("editForumTopic")[-1].params["name"].startswith(f"#{second.id} · ")


async def test_a_topic_deleted_by_volunteers_is_replaced_by_a_new_one(api, engine, newcomer):
    async with start_bot(api, engine):
        thread = await closed_handover_thread(api, engine, newcomer)
        api.fail("reopenForumTopic", 400, "Bad Request: message thread not found")
        earlier = len(newcomer.received())
        newcomer.say("/human")
        await newcomer.reply(lambda c: c in newcomer.received()[earlier:] and "I've asked" in c.params["text"])
        handover = handover_of(engine, newcomer)
        second = await api.until("sendMessage", lambda c: c.params["chat_id"] == DESK
                                 and c.params["text"].startswith(f"Handover #{handover.id}\n"))
        assert second.params["message_thread_id"] != thread
        conversation = engine.store.conversation("telegram", str(newcomer.id))
        print([ (c.method, c.params) for c in api.calls if c.method != "sendMessage" or c.params["chat_id"]==DESK])
        assert engine.store.desk_thread(conversation.id) == second.params["message_thread_id"]

async def test_a_photo_outside_a_handover_gets_a_text_only_reply(api, engine, newcomer):
    async with start_bot(api, engine):
        api.push(private_media(newcomer.id, "photo"))
        reply = await newcomer.reply_containing("only read text")
        assert button_titles(reply) == ["Talk to a volunteer"]
        api.push(private_media(newcomer.id, "voice"))
        await newcomer.reply(lambda c: c is not reply and "only read text" in c.params["text"])


async def test_photos_in_a_handover_go_both_ways(api, engine, newcomer):
    async with start_bot(api, engine):
        thread = await handover_thread(api, engine, newcomer, "where can I learn Dutch?")
        api.push(private_media(newcomer.id, "photo"))
        await api.until("copyMessage", lambda c: c.params["from_chat_id"] == newcomer.id
                        and c.params["message_thread_id"] == thread)
        api.push(group_media(DESK, "photo", thread_id=thread))
        copy = await api.until("copyMessage", lambda c: c.params["chat_id"] == newcomer.id)
        assert copy.params["caption"] == "— Anna, volunteer at the international desk"
        api.push(group_media(DESK, "sticker", thread_id=thread))  # no caption possible: signed apart
        await newcomer.reply(lambda c: c.params["text"] == "— Anna, volunteer at the international desk")
        messages = engine.store.last_messages(handover_of(engine, newcomer).conversation_id)
        assert [m["text"] for m in messages[-2:]] == ["[photo]", "[sticker]"]


async def test_a_volunteer_hears_when_the_newcomer_has_blocked_the_bot(api, engine, newcomer):
    async with start_bot(api, engine):
        thread = await handover_thread(api, engine, newcomer)
        api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
        await desk_says(api, "Hello, are you still there?", thread)
        await desk_reply(api, thread, "blocked the bot")

async def test_only_the_desk_group_can_close_a_handover(api, engine, newcomer, caplog):
    async with start_bot(api, engine):
        thread = await handover_thread(api, engine, newcomer)
        api.push(group_text(OTHER_GROUP, "/close", thread_id=thread))
        api.push(group_text(OTHER_GROUP, "hello from elsewhere", thread_id=thread))
        newcomer.say("still there?")  # processed after the two: proof they were handled
        await api.until("copyMessage", lambda c: c.params["from_chat_id"] == newcomer.id)
        await asyncio.sleep(SETTLE)
    assert handover_of(engine, newcomer) is not None
    assert [c.method for c in api.calls if c.params.get("chat_id") == OTHER_GROUP] == ["leaveChat"]
    assert not [c for c in api.calls_to("closeForumTopic") if c.params["message_thread_id"] == thread]
    assert f"ignored a message from chat {OTHER_GROUP}" in caplog.text
    assert not any("calling" in c.params["text"] for c in newcomer.received())


async def test_no_volunteer_in_time_tells_the_newcomer_once(api, engine, newcomer, clock):
    async with start_bot(api, engine):
        thread = await handover_thread(api, engine, newcomer)
        clock.advance(minutes=11)
        await newcomer.reply_containing("taking a little longer")
        await desk_reply(api, thread, "the newcomer was told")
        await asyncio.sleep(SETTLE)
    assert sum("taking a little longer" in c.params["text"] for c in newcomer.received()) == 1


async def test_forget_during_a_handover_erases_everything_and_the_topic_once_confirmed(api, engine, newcomer):
    async with start_bot(api, engine):
        thread = await handover_thread(api, engine, newcomer)
        newcomer.say("my address is Zonnestraal 77")
        await api.until("copyMessage", lambda c: c.params["from_chat_id"] == newcomer.id)
        newcomer.say("/forget")
        confirm = await newcomer.reply_containing("Shall I delete everything")
        assert handover_of(engine, newcomer) is not None, "the handover ended before the newcomer confirmed"
        newcomer.press(confirm, "Yes, delete it")
        await newcomer.reply_containing("I have deleted")
        await api.until("deleteForumTopic", lambda c: c.params["message_thread_id"] == thread)
        await asyncio.sleep(SETTLE)
    cells = every_cell(engine.store.path.parent)
    assert not re.search(rf"\b{newcomer.id}\b", cells) and "Zonnestraal" not in cells


async def test_no_to_the_erase_question_keeps_the_handover_and_tells_the_desk_nothing(api, engine, newcomer):
    async with start_bot(api, engine):
        thread = await handover_thread(api, engine, newcomer)
        newcomer.say("/forget")
        confirm = await newcomer.reply_containing("Shall I delete everything")
        newcomer.press(confirm, "No, keep it")
        await newcomer.reply_containing("nothing was deleted")
        newcomer.say("ok, back to my question about the GP")
        await api.until("copyMessage", lambda c: c.params.get("message_thread_id") == thread
                        and c.params["from_chat_id"] == newcomer.id)
    assert handover_of(engine, newcomer) is not None
    assert not [c for c in api.calls_to("sendMessage") if c.params.get("message_thread_id") == thread
                and "erase" in c.params["text"]]


async def test_a_flood_is_held_back_with_one_notice_few_engine_calls_and_nothing_lost(api, engine, newcomer):
    async with start_bot(api, engine):
        for n in range(50):  # within a second
            newcomer.say(f"hello {n}")
        await newcomer.reply_containing("faster than I can read")
        conversation = engine.store.conversation("telegram", str(newcomer.id))
        await asyncio.sleep(2 * SETTLE)
        incoming = [m for m in engine.store.last_messages(conversation.id, None) if m["direction"] == "in"]
    assert sorted(m["text"] for m in incoming) == sorted(f"hello {n}" for n in range(50))
    assert sum(m["action"] != "held" for m in incoming) <= 8  # the engine saw only the first ones
    assert sum("faster than I can read" in c.params["text"] for c in newcomer.received()) == 1


async def test_a_button_that_does_not_exist_shows_the_menu(api, engine, newcomer):
    async with start_bot(api, engine):
        api.push(callback(newcomer.id, "no-such-button-key"))
        menu = await newcomer.reply(lambda c: "reply_markup" in c.params)
        assert "Learn Dutch" in button_titles(menu)


async def test_a_desk_command_from_a_private_chat_does_nothing_to_the_desk(api, engine, newcomer):
    async with start_bot(api, engine):
        other = TelegramUser(api, next(_user_ids))
        thread = await handover_thread(api, engine, other)
        newcomer.say("/close")  # a newcomer trying the volunteers' command
        await newcomer.reply()
        await asyncio.sleep(SETTLE)
    assert handover_of(engine, other) is not None
    assert not [c for c in api.calls_to("closeForumTopic") if c.params["message_thread_id"] == thread]


def _post(url: str, update: dict, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, json.dumps(update).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


async def test_webhook_rejects_forged_requests_and_handles_a_repeated_update_once(api, engine, newcomer):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram-hook"
    secret = "s3cret-token"
    async with start_bot(api, engine, webhook_url=url, webhook_secret=secret, webhook_port=port):
        assert api.webhook == {"url": url, "secret_token": secret}
        update = private_text(newcomer.id, "where can I learn Dutch?") | {"update_id": 900001}
        post = lambda s: asyncio.to_thread(_post, url, update, s)  # noqa: E731
        assert await post("wrong-secret") == 403
        assert await post(None) == 403
        assert await post(secret) == 200
        await newcomer.reply_containing("Did this help?")
        assert await post(secret) == 200  # Telegram delivering the same update again
        await asyncio.sleep(SETTLE)
    assert sum("Did this help?" in c.params["text"] for c in newcomer.received()) == 1
    incoming = engine.store.last_messages(engine.store.conversation("telegram", str(newcomer.id)).id)
    assert [m["text"] for m in incoming if m["direction"] == "in"] == ["where can I learn Dutch?"]


async def test_debug_logs_carry_no_message_text_user_ids_names_or_tokens(api, engine, newcomer, caplog):
    caplog.set_level(logging.DEBUG, logger="bot")  # what WEGWIJS_LOG_LEVEL=DEBUG does
    async with start_bot(api, engine):
        newcomer.say("my son Mimsythorn needs a huisarts")
        await newcomer.reply_containing("Did this help?")
        thread = await handover_thread(api, engine, newcomer, "and Mimsythorn has a fever")
        await desk_says(api, "Hello from the desk, Mimsythorn", thread, first_name="Volunteerina")
        await newcomer.reply_containing("Hello from the desk")
    logged = caplog.text
    assert "handover #" in logged  # the logs say what happened...
    for secret in ("Mimsythorn", str(newcomer.id), "Volunteerina", "Priya", api.token):
        assert secret not in logged, f"{secret!r} in the logs"


@pytest.mark.parametrize("text", [
    "🙂🙂🙂", "   ", "a" * 4096, "where\u200b can\u200d I learn\x07 Dutch\x00?",
    "أين يمكنني تعلم Dutch في Amstelveen؟", "huisarts " * 1100,
], ids=["emoji", "blank", "at-the-limit", "zero-width-and-control", "right-to-left", "10000-characters"])
async def test_odd_messages_get_a_reply_and_the_conversation_goes_on(api, engine, newcomer, text):
    async with start_bot(api, engine):
        newcomer.say(GP_QUESTION)
        answer = await newcomer.reply_containing("Did this help?")
        newcomer.say(text)
        odd = await newcomer.reply(lambda c: c is not answer)
        newcomer.say("where can I learn Dutch?")
        await newcomer.reply(lambda c: c is not odd and "Taalhuis" in c.params["text"])


async def test_an_edited_message_and_a_strangers_group_are_ignored_and_logged(api, engine, newcomer, caplog):
    caplog.set_level(logging.INFO, logger="bot")
    async with start_bot(api, engine):
        edited = private_text(newcomer.id, "where can I learn Dutch?")
        api.push({"edited_message": edited["message"] | {"edit_date": 1}})
        api.push(group_text(OTHER_GROUP, "/start"))
        newcomer.say("/start")  # handled after the two: proof they were passed over
        await newcomer.reply(lambda c: "reply_markup" in c.params)
        await asyncio.sleep(SETTLE)
    assert len(newcomer.received()) == 1
    assert f"ignored a message from chat {OTHER_GROUP}" in caplog.text
    assert "ignored an edited message" in caplog.text
    assert api.calls_to("leaveChat")[-1].params["chat_id"] == OTHER_GROUP
