"""The staff report over real conversations: the engine with the trained model, the real
multilingual model and a real SQLite store, then `collect`, the groups, the HTML and JSON,
and a new entry started from a group."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

from bot.knowledge.base import load_knowledge
from bot.knowledge.live import INDEX_FILE
from bot.report.data import NO_TOPIC, collect, mask
from bot.report.groups import group_unanswered
from bot.report.html import as_json, render
from bot.report.new_entry import new_entry_from_group
from tests.conversation_fixtures import TUESDAY_MORNING, Newcomer, make_engine
from tests.knowledge_fixtures import SHIPPED, copy_shipped

PHONE = "+31 6 12345678"
PHONE_WIDTH = 390  # CSS pixels of a common phone
# Lays the page out PHONE_WIDTH wide (headless Chromium's window is at least 500) and writes into
# it how far right anything reaches, the visible text and the charts shown (the report itself
# has no script).
PROBE = ("<script>document.documentElement.style.width = '%dpx';"
         "document.body.setAttribute('data-probe', JSON.stringify({scroll_width: Math.max("
         "...[...document.querySelectorAll('body *')].map(e => e.getBoundingClientRect().right)), "
         "text: document.body.innerText, "
         "charts: [...document.querySelectorAll('svg')].filter(s => s.getBoundingClientRect().width > 0).length}))"
         "</script>")
BIKES = ["where can I buy a second hand bike",
         "where can I buy a used bicycle in amstelveen",
         "second hand bike shop amstelveen?"]


def in_browser(page: Path, width: int, screenshot: Path) -> dict:
    """The page in headless Chromium at `width`: how wide it lays out, its visible text and
    charts; a screenshot is written too (Debian's chromium, which `make test` installs)."""
    probe = page.with_name(f"probe-{page.name}")
    probe.write_text(page.read_text().replace("</body>", PROBE % width + "</body>"))
    browser = [shutil.which("chromium") or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
               "--hide-scrollbars", f"--window-size={width},844"]
    subprocess.run(browser + [f"--screenshot={screenshot}", probe.as_uri()], capture_output=True, timeout=120,
                   check=True)
    dom = subprocess.run(browser + ["--dump-dom", probe.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    found = re.search(r'data-probe="([^"]*)"', dom)
    assert found, dom[-2000:]
    return json.loads(html.unescape(found.group(1)))


def test_mask_hides_numbers_addresses_postcodes_and_names():
    masked = mask("My name is Anna de Vries, I live at 1181 AB, mail anna@example.com, "
                  "call 06-12345678 or +31 20 123 4567, BSN 123456789")
    assert not any(ch.isdigit() for ch in masked)
    assert "Anna" not in masked and "Vries" not in masked and "example" not in masked
    assert mask("ik heet Jan Jansen en ik zoek een huisarts") == "ik heet [name] en ik zoek een huisarts"
    assert mask("how do I register with a GP?") == "how do I register with a GP?"


async def test_report_over_real_conversations(trained_model, embedder, shared_data_dir, tmp_path):
    knowledge_dir = copy_shipped(tmp_path / "knowledge", [p.stem for p in (SHIPPED / "entries").glob("*.yaml")])
    stale = knowledge_dir / "entries" / "gp-costs.yaml"
    stale.write_text(stale.read_text().replace("review_by: 2027-11-22", "review_by: 2026-11-23"))
    (tmp_path / "data").mkdir()
    if (shared_data_dir / INDEX_FILE).is_file():
        shutil.copy(shared_data_dir / INDEX_FILE, tmp_path / "data" / INDEX_FILE)
    now = [TUESDAY_MORNING]
    engine = make_engine(trained_model, knowledge_dir, tmp_path / "data", embedder,
                         clock=lambda: now[0], store_dir=tmp_path)
    store = engine.store
    knowledge = engine.knowledge.retriever.knowledge
    turns = []

    async def say(person: Newcomer, text: str):
        turns.append(await person.say(text))
        return turns[-1]

    helped = Newcomer(engine, "secret-user-ref-helped")
    answered = await say(helped, "how can I sign up with a family doctor?")
    assert answered.action == "answer"
    await say(helped, "/affirm")

    not_helped = Newcomer(engine, "secret-user-ref-not-helped")
    insurance = await say(not_helped, "what does basic health insurance cover?")
    assert insurance.action == "answer"
    await say(not_helped, "/deny")

    dutch = Newcomer(engine, "secret-user-ref-dutch")
    assert (await say(dutch, "Waar kan ik Nederlandse les volgen?")).language == "nl"

    now[0] = TUESDAY_MORNING + dt.timedelta(days=1)
    for number, text in enumerate(BIKES):
        await say(Newcomer(engine, f"secret-user-ref-bike-{number}"), text)
    await say(Newcomer(engine, "secret-user-ref-cricket"), f"any cricket clubs in amstelveen? my number is {PHONE}")
    unsure = await say(Newcomer(engine, "secret-user-ref-unsure"), "how can I find a huisarts near me?")

    desk = Newcomer(engine, "secret-user-ref-desk")
    handover = await say(desk, "I want to talk to a real person")
    assert handover.action == "handover"
    now[0] += dt.timedelta(minutes=20)
    store.add_from_desk(desk.conversation_id, "Marieke", "Hello, I am Marieke from the desk")
    store.record_desk_reply(handover.handover_id, "Marieke")

    store.db["daily_counts"].insert({"day": "2026-11-20", "channel": "test", "language": "en",
                                     "action": "answer", "entry": "gp-register", "messages": 5})

    data = collect(store, knowledge, dt.date(2026, 11, 1), dt.date(2026, 11, 30))

    # Volumes: every incoming message, plus the kept daily counts of purged days.
    assert data.messages == len(turns) + 5
    expected_topics = Counter(knowledge.by_id[t.entry].topic if t.entry else NO_TOPIC for t in turns)
    expected_topics["gp"] += 5
    assert data.per_topic == dict(expected_topics)
    assert data.per_language["nl"] == 1
    assert data.messages_per_day == {"2026-11-20": 5, "2026-11-24": 5, "2026-11-25": len(turns) - 5}
    assert data.handovers_per_day == {"2026-11-25": 1}
    times = data.reply_times["hours not confirmed"]  # the shipped desk hours are not verified
    assert (times.handovers, times.replied, times.median_minutes) == (1, 1, 20.0)
    assert data.conversations == 9 and data.conversations_without_volunteer == 8

    # "Did this help?": the worst entry first.
    feedback = {f.entry: (f.yes, f.no) for f in data.feedback}
    assert feedback == {answered.entry: (1, 0), insurance.entry: (0, 1)}
    assert data.feedback[0].entry == insurance.entry

    # What could not be answered: masked, with the reason.
    reasons = {u.text: u.reason for u in data.unanswered}
    assert reasons["what does basic health insurance cover?"] == "not helpful"
    assert reasons["I want to talk to a real person"] == "handover"
    assert all(reasons.get(text) in ("fallback", "clarify") for text in BIKES), reasons
    if unsure.action == "clarify":
        assert reasons["how can I find a huisarts near me?"] == "clarify"
    cricket = next(text for text in reasons if "cricket" in text)
    assert "[phone]" in cricket and not any(ch.isdigit() for ch in cricket)

    # Knowledge health.
    assert [e["id"] for e in data.overdue] == ["gp-costs"]
    assert "gp-costs" in {e["id"] for e in data.never_answered}
    assert answered.entry not in {e["id"] for e in data.never_answered}
    assert data.desk_hours["known"] is False

    groups = group_unanswered(data.unanswered, embedder, engine.knowledge.retriever)
    assert [g.number for g in groups] == list(range(1, len(groups) + 1))
    bikes = groups[0]
    assert bikes.size == 3 and set(bikes.examples) == set(BIKES), [(g.size, g.examples) for g in groups]
    assert bikes.suggestion == "new entry"

    page = render(data, groups)
    assert "<svg" in page and 'width="100%"' in page
    assert not any(tag in page for tag in ("<script", "<link", 'src="http', 'href="http'))  # no network
    assert "1. " + BIKES[0] in page or any(f"1. {text}" in page for text in BIKES)
    assert "gp-costs" in page.split("Past their review date")[1].split("With unverified")[0]
    assert "secret-user-ref" not in page and "12345678" not in page and "Marieke" not in page
    (tmp_path / "report.html").write_text(page)
    shown = in_browser(tmp_path / "report.html", PHONE_WIDTH, tmp_path / "phone.png")
    assert shown["scroll_width"] <= PHONE_WIDTH, "the page scrolls sideways on a phone"
    for visible in ("What we could not answer", BIKES[0], "Past their review date", "gp-costs"):
        assert visible in shown["text"]
    assert shown["charts"] >= 3 and (tmp_path / "phone.png").stat().st_size > 10_000

    report = json.loads(as_json(data, groups))
    assert report["groups"][0]["size"] == 3 and report["messages"] == data.messages
    assert "secret-user-ref" not in as_json(data, groups)

    # A new entry from the group: a draft with the group's messages as questions, not in
    # service; moved to entries/ unfinished, it is an error until filled in.
    path = new_entry_from_group(bikes, knowledge_dir, today=dt.date(2026, 11, 24))
    assert path.parent == knowledge_dir / "drafts" and path.name.startswith("new-")
    text = path.read_text()
    assert all(example in text for example in BIKES) and "TO FILL IN" in text
    assert load_knowledge(knowledge_dir, today=dt.date(2026, 11, 24)).knowledge is not None
    moved = path.rename(knowledge_dir / "entries" / path.name)
    result = load_knowledge(knowledge_dir, today=dt.date(2026, 11, 24))
    assert result.knowledge is None
    assert any(problem.path == moved and problem.severity == "error" for problem in result.problems)
    assert new_entry_from_group(bikes, knowledge_dir) == path  # the draft's name is free again
