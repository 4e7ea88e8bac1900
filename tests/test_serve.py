"""`wegwijs serve` run as the deployment runs it: a process (and its workers) serving Telegram
against the fake Bot API, killed in the middle of a burst and started again, then stopped
with SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.knowledge.live import INDEX_FILE
from bot.bench.fake_telegram import FakeBotApi, group_text
from tests.telegram_fixtures import DESK, TelegramUser

WEGWIJS = Path(sys.executable).parent / "wegwijs"
STARTUP_SECONDS = 180  # loading the models on a busy machine
SETTLE = 0.5


@pytest.fixture
def api():
    with FakeBotApi() as server:
        yield server


@pytest.fixture
def data_dir(tmp_path, shared_data_dir, trained_model):
    """A fresh data folder; the knowledge index is copied so the process need not embed it."""
    folder = tmp_path / "data"
    folder.mkdir()
    index = shared_data_dir / INDEX_FILE
    if index.exists():
        shutil.copy(index, folder)
    return folder


def environment(api: FakeBotApi, data_dir: Path, **extra: str) -> dict[str, str]:
    return os.environ | {
        "TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_DESK_CHAT_ID": str(DESK),
        "TELEGRAM_API_BASE_URL": api.base_url, "WEGWIJS_DATA_DIR": str(data_dir),
        "OMP_NUM_THREADS": "1", **extra}


class Serving:
    """`wegwijs serve` in a child process (a process group of its own), its output in a log file."""

    def __init__(self, api: FakeBotApi, data_dir: Path, log: Path, workers: int, clear_calls: bool = True):
        self.api = api
        self.log = log
        if clear_calls:
            api.clear_calls()
        self._logged_before = log.read_text() if log.exists() else ""
        with log.open("a") as output:
            self.process = subprocess.Popen([str(WEGWIJS), "serve"],
                                            env=environment(api, data_dir, WEGWIJS_WORKERS=str(workers)),
                                            stdout=output, stderr=subprocess.STDOUT, start_new_session=True)

    async def ready(self) -> None:
        """Until the workers have their engines open (the channel receives before that)."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while "workers ready" not in self.log.read_text()[len(self._logged_before):]:
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.process.kill()
                raise AssertionError(f"wegwijs serve did not start:\n{self.log.read_text()[-3000:]}")
            await asyncio.sleep(0.2)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        """`kill -9` of the server and its workers, as a crash or an OOM killer would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


BURST_QUESTIONS = ["how do I register with a huisarts?", "where can I learn Dutch?",
                   "what is a BSN?", "is health insurance compulsory?", "how can I volunteer?"]


@pytest.mark.starts_a_process
async def test_kill_9_in_a_burst_loses_nothing_sends_nothing_twice_and_dialogues_continue(api, data_dir, tmp_path):
    """Twelve newcomers send five questions each at once while one newcomer is in a handover
    and another was just asked "Did this help?"; the server is killed (kill -9) while the
    answers are being worked out and sent. Telegram is down for sends at that moment (each
    send answered 502), so no send is half done. After the restart every question is answered
    exactly once (every newcomer's replies are the same five answers, in order), the handover
    goes on, and "No" still answers "Did this help?". Two workers share the burst; one serves
    the restart (each worker loads the models, which is most of this test's time)."""
    newcomers = [TelegramUser(api, 7000 + n) for n in range(12)]
    in_handover, asker = TelegramUser(api, 4242), TelegramUser(api, 4343)
    first = Serving(api, data_dir, tmp_path / "serve.log", workers=2)
    await first.ready()
    asker.say("how do I register with a huisarts?")
    answer = await asker.reply_containing("Did this help?")
    in_handover.say("/human")
    await in_handover.reply_containing("I've asked a volunteer")
    card = await api.until("sendMessage", lambda c: c.params["chat_id"] == DESK
                           and c.params["text"].startswith("Handover #"))
    thread = card.params["message_thread_id"]

    for question in BURST_QUESTIONS:
        for newcomer in newcomers:
            newcomer.say(question)
    await newcomers[0].reply()
    api.inject_faults(rate_5xx=1.0)
    await asyncio.sleep(0.3)
    replies_before = sum(len(newcomer.received()) for newcomer in newcomers)
    first.kill()
    assert replies_before < len(newcomers) * len(BURST_QUESTIONS), "the kill came after the burst"
    api.inject_faults()

    second = Serving(api, data_dir, tmp_path / "serve.log", workers=1, clear_calls=False)
    await second.ready()
    for newcomer in newcomers:
        await newcomer.reply(lambda c: len(newcomer.received()) >= len(BURST_QUESTIONS), timeout=90)

    before_volunteer = len(in_handover.received())
    api.push(group_text(DESK, "Good morning! How can I help?", thread_id=thread, first_name="Sanne"))
    relayed = await in_handover.reply_containing("How can I help?")
    assert relayed.params["text"].endswith("— Sanne, volunteer at the international desk")
    in_handover.say("I need a GP for my son")
    await api.until("copyMessage", lambda c: c.params["chat_id"] == DESK
                    and c.params["message_thread_id"] == thread)
    asker.press(answer, "No")
    await asker.reply_containing("Would you like a volunteer")
    await asyncio.sleep(2 * SETTLE)
    assert second.stop() == 0, second.log.read_text()[-3000:]

    assert in_handover.received()[before_volunteer:] == [relayed], "the bot answered during the handover"
    replies = {newcomer.id: [c.params["text"] for c in newcomer.received()] for newcomer in newcomers}
    expected = replies[newcomers[0].id]
    assert len(expected) == len(BURST_QUESTIONS) and all("Did this help?" in text for text in expected)
    assert all(texts == expected for texts in replies.values()), replies


def test_serve_without_a_desk_group_says_what_is_missing(api, data_dir):
    env = environment(api, data_dir)
    del env["TELEGRAM_DESK_CHAT_ID"]
    result = subprocess.run([str(WEGWIJS), "serve"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "TELEGRAM_DESK_CHAT_ID is not set" in result.stderr


@pytest.mark.starts_a_process
def test_serve_without_a_token_is_the_console_chat(data_dir):
    env = {name: value for name, value in os.environ.items() if not name.startswith("TELEGRAM_")}
    env |= {"WEGWIJS_DATA_DIR": str(data_dir), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([str(WEGWIJS), "serve"], input="where can I learn Dutch?\n", env=env,
                            capture_output=True, text=True, timeout=STARTUP_SECONDS)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "starting the console chat" in result.stderr
    assert "Warning" not in result.stderr  # no library deprecation notices at start-up
    assert "Taalhuis" in result.stdout
