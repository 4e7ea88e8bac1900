"""`wegwijs serve` run as the deployment runs it: a process serving Telegram (against the
fake Bot API), stopped with SIGTERM in the middle of a handover and started again.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.knowledge.live import INDEX_FILE
from tests.fake_bot_api import FakeBotApi, group_text
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
    """`wegwijs serve` in a child process, its output in a log file."""

    def __init__(self, api: FakeBotApi, data_dir: Path, log: Path):
        self.api = api
        self.log = log
        api.clear_calls()
        with log.open("a") as output:
            self.process = subprocess.Popen([str(WEGWIJS), "serve"], env=environment(api, data_dir),
                                            stdout=output, stderr=subprocess.STDOUT)

    async def ready(self) -> None:
        try:
            await self.api.until("setMyCommands", lambda c: "scope" in c.params, STARTUP_SECONDS)
        except AssertionError:
            self.process.kill()
            raise AssertionError(f"wegwijs serve did not start:\n{self.log.read_text()[-3000:]}") from None

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


async def test_a_restart_in_the_middle_of_a_handover_continues_it(api, data_dir, tmp_path):
    newcomer = TelegramUser(api, 4242)
    first = Serving(api, data_dir, tmp_path / "serve.log")
    await first.ready()
    newcomer.say("/human")
    await newcomer.reply_containing("I've asked a volunteer")
    card = await api.until("sendMessage", lambda c: c.params["chat_id"] == DESK
                           and c.params["text"].startswith("Handover #"))
    thread = card.params["message_thread_id"]
    assert first.stop() == 0, first.log.read_text()[-3000:]

    second = Serving(api, data_dir, tmp_path / "serve.log")
    await second.ready()
    api.push(group_text(DESK, "Good morning! How can I help?", thread_id=thread, first_name="Sanne"))
    relayed = await newcomer.reply_containing("How can I help?")
    assert relayed.params["text"].endswith("— Sanne, volunteer at the international desk")
    newcomer.say("I need a GP for my son")
    await api.until("copyMessage", lambda c: c.params["chat_id"] == DESK
                    and c.params["message_thread_id"] == thread)
    await asyncio.sleep(SETTLE)
    assert newcomer.received() == [relayed], "the bot answered during the handover"
    assert second.stop() == 0, second.log.read_text()[-3000:]


def test_serve_without_a_desk_group_says_what_is_missing(api, data_dir):
    env = environment(api, data_dir)
    del env["TELEGRAM_DESK_CHAT_ID"]
    result = subprocess.run([str(WEGWIJS), "serve"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "TELEGRAM_DESK_CHAT_ID is not set" in result.stderr


def test_serve_without_a_token_is_the_console_chat(data_dir):
    env = {name: value for name, value in os.environ.items() if not name.startswith("TELEGRAM_")}
    env |= {"WEGWIJS_DATA_DIR": str(data_dir), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([str(WEGWIJS), "serve"], input="where can I learn Dutch?\n", env=env,
                            capture_output=True, text=True, timeout=STARTUP_SECONDS)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "starting the console chat" in result.stderr
    assert "Taalhuis" in result.stdout
