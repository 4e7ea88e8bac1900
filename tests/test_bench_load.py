"""`wegwijs bench load` against the real `wegwijs serve`, small: 3 newcomers asking 2 questions each."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from bot.bench.fake_telegram import FakeBotApi
from bot.bench.load import LoadOptions, Question, outcomes, run_load


@pytest.mark.starts_a_process
def test_a_small_load_is_answered_in_full(tmp_path, shared_data_dir, trained_model, monkeypatch):
    monkeypatch.setenv("WEGWIJS_WORKERS", "1")  # two workers (the default) are the kill test's
    report = run_load(LoadOptions(newcomers=3, questions_per_newcomer=2, pause=0.2,
                                  index_source=shared_data_dir, seed=7),
                      work_dir=tmp_path)
    log = (tmp_path / "serve.log").read_text(errors="replace")[-3000:]
    assert (report.questions, report.answered, report.lost, report.duplicated) == (6, 6, 0, 0), log
    assert "Warning" not in log  # the volunteers' server log: no library deprecation notices
    ms = report.time_to_answer_ms
    assert 0 < ms["p50"] <= ms["p95"] <= ms["p99"]
    assert report.answered_per_second > 0
    assert report.replies_per_answer >= 1
    assert report.peak_memory_mib > 0
    assert len(report.ready_in_seconds) == 1 and report.ready_in_seconds[0] > 0
    assert json.loads(report.as_json())["answered"] == 6
    assert "time to answer p95" in report.lines()


def test_injected_faults_answer_a_share_of_the_sends_with_429_or_5xx():
    with FakeBotApi() as api:
        api.inject_faults(rate_429=0.3, rate_5xx=0.2, seed=1)
        codes = []
        for _ in range(200):
            request = urllib.request.Request(f"{api.base_url}{api.token}/sendMessage",
                                             data=b"chat_id=42&text=hello")
            try:
                with urllib.request.urlopen(request) as answer:
                    codes.append(answer.status)
            except urllib.error.HTTPError as error:
                codes.append(error.code)
                if error.code == 429:
                    assert json.load(error)["parameters"] == {"retry_after": 1}
    assert set(codes) == {200, 429, 500, 502}
    assert 40 <= codes.count(429) <= 80 and 20 <= codes.count(500) + codes.count(502) <= 60
    assert api.faults_injected == len(api.failed) == 200 - codes.count(200)
    assert len(api.sent_to(42)) == codes.count(200) and all(call.at > 0 for call in api.sent_to(42))


def test_a_reply_delivered_again_after_the_next_question_counts_as_a_duplicate():
    api = FakeBotApi()  # not started: the calls are made directly
    first = Question(42, "Where do I get a BSN?", time.monotonic())
    api.handle("sendMessage", {"chat_id": 42, "text": "At the town hall."})
    second = Question(42, "How do I open a bank account?", time.monotonic())
    api.handle("sendMessage", {"chat_id": 42, "text": "At the town hall."})  # delivered again
    api.handle("sendMessage", {"chat_id": 42, "text": "At a bank."})
    api.handle("sendMessage", {"chat_id": 42, "text": "At a bank."})
    before, after = outcomes(api, [first, second])
    assert (before.replies, before.duplicates, before.answered) == (["At the town hall."] * 2, 1, True)
    assert (after.replies, after.duplicates) == (["At a bank."] * 2, 1)
    assert after.first_reply_at == api.sent_to(42)[2].at
