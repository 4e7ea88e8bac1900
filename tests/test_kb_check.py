"""`wegwijs kb check`: every rule, with the exact file:line message a comms officer sees."""

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.knowledge.base import load_knowledge
from bot.knowledge.topics import TOPICS
from tests.knowledge_fixtures import SHIPPED, VALID_ENTRY, write_folder


def kb_check(folder, monkeypatch, *args):
    monkeypatch.setenv("WEGWIJS_KNOWLEDGE_DIR", str(folder))
    monkeypatch.chdir(folder)
    return CliRunner().invoke(cli, ["kb", "check", *args])


def broken(tmp_path, monkeypatch, text, name="broken.yaml"):
    folder = write_folder(tmp_path / "kb", {"good.yaml": VALID_ENTRY, name: text})
    return kb_check(folder, monkeypatch)


def test_clean_folder_passes_and_lists_unverified(tmp_path, monkeypatch):
    result = kb_check(write_folder(tmp_path / "kb", {"good.yaml": VALID_ENTRY}), monkeypatch)
    assert result.exit_code == 0, result.output
    assert "entries/good.yaml:10: Whether practices register online." in result.output
    assert "1 entries, 0 errors" in result.output


@pytest.mark.parametrize("change, line, message", [
    (("topic: gp", "topic: doctors"), 2, "error: topic 'doctors' is not in the topic list: international_desk, gp,"),
    (("id: test-gp", "id: Test GP"), 1, "error: id 'Test GP' may only use lower-case letters, digits and dashes"),
    (("owner: Communicatie Amstelveen\n", ""), 1, "error: 'owner' is missing"),
    (("  - https://gpinfo.nl/choosing-gp", "  - gpinfo.nl/choosing-gp"), 7,
     "error: sources: 'gpinfo.nl/choosing-gp' is not a web address (it must start with https:// or http://)"),
    (("links: []", "links:\n  - https://example .org"), 9, "error: links: 'https://example .org' is not a web address"),
    (("last_reviewed: 2026-11-01", "last_reviewed: 1-11-2026"), 4,
     "error: last_reviewed must be a date written YYYY-MM-DD, like 2026-11-22 (found '1-11-2026')"),
    (("review_by: 2027-05-01", "review_by: 2026-01-01"), 5, "error: review_by is before last_reviewed"),
    (("    Register with a GP near your home. Bring ID, your BSN and insurance details.",
      "    " + "Very long text. " * 50), 13, "error: en.answer is 799 characters; keep it under 700"),
    (("  title: Registering with a GP\n", "  title: ''\n"), 12, "error: en.title must be some text, not left empty"),
    (("    - how do I register with a GP", "    - ''"), 16, "error: en.questions: item 1 must be text, not empty"),
    (("    Register with a GP near your home.", "    Register with a GP near {postcode}."), 13,
     "error: en.answer uses {postcode}, but the only placeholder is {desk_status}"),
    (("topic: gp", "topic: emergency"), 2, "error: a emergency entry needs 'triggers'"),
    (("links: []", "links: []\ntriggers:\n  en: [heart attack]"), 9,
     "error: only emergency, urgent_medical and crisis_support entries may have triggers"),
    (("en:\n", "english:\n"), 11, "warning: unknown field 'english' is ignored (spelling?)"),
    (("nl:\n", "other_questions:\n  no: [hvordan finner jeg en lege]\nnl:\n"), 18,
     "error: other_questions: write Norwegian as 'nb' ('no' reads as false)"),
])
def test_each_rule_reports_file_line_and_message(tmp_path, monkeypatch, change, line, message):
    old, new = change
    assert old in VALID_ENTRY
    result = broken(tmp_path, monkeypatch, VALID_ENTRY.replace(old, new).replace("test-gp", "other"))
    assert f"entries/broken.yaml:{line}: {message}" in result.output, result.output


def test_a_trigger_repeated_without_its_accents_is_a_warning(tmp_path, monkeypatch):
    text = VALID_ENTRY.replace("topic: gp", "topic: emergency").replace(
        "links: []", "links: []\ntriggers:\n  pl:\n    - zgłosić kradzież\n    - Zglosic kradziez")
    result = broken(tmp_path, monkeypatch, text.replace("test-gp", "other"))
    assert ("entries/broken.yaml:12: warning: triggers.pl: 'Zglosic kradziez' is 'zgłosić kradzież' "
            "again once capitals and accents are ignored: keep one") in result.output, result.output
    assert result.exit_code == 0


def test_missing_dutch_section(tmp_path, monkeypatch):
    text = VALID_ENTRY.split("nl:\n")[0].replace("test-gp", "other")
    result = broken(tmp_path, monkeypatch, text)
    assert "entries/broken.yaml:1: error: 'nl' is missing" in result.output
    assert result.exit_code == 1


def test_yaml_syntax_error_points_at_the_line(tmp_path, monkeypatch):
    text = VALID_ENTRY.replace("test-gp", "other").replace(
        "  title: Registering with a GP", "  title: Registering: with a GP: now")
    result = broken(tmp_path, monkeypatch, text)
    assert "entries/broken.yaml:12: error: the file cannot be read here (mapping values are not allowed in this context)" in result.output
    assert result.exit_code == 1


def test_duplicate_id_names_the_other_file(tmp_path, monkeypatch):
    result = broken(tmp_path, monkeypatch, VALID_ENTRY, name="copy.yaml")
    assert "entries/good.yaml:1: error: id 'test-gp' is already used by copy.yaml" in result.output
    assert result.exit_code == 1


def test_overdue_review_is_a_warning_and_strict_makes_it_an_error(tmp_path, monkeypatch):
    text = VALID_ENTRY.replace("last_reviewed: 2026-11-01", "last_reviewed: 2020-01-01").replace(
        "review_by: 2027-05-01", "review_by: 2021-01-01")
    folder = write_folder(tmp_path / "kb", {"old.yaml": text})
    result = kb_check(folder, monkeypatch)
    assert "entries/old.yaml:5: warning: review overdue since 2021-01-01" in result.output
    assert result.exit_code == 0
    assert kb_check(folder, monkeypatch, "--strict").exit_code == 1


def test_desk_hours_errors_point_at_the_line(tmp_path, monkeypatch):
    desk = "verified: true\nweekly:\n  monday: [\"09:00-12:00\"]\n  funday: [\"10:00-11:00\"]\n" \
           "  friday: [\"16:00-09:00\"]\nexceptions: []\nlocation:\n  en: hall\n  nl: hal\n"
    result = kb_check(write_folder(tmp_path / "kb", {"good.yaml": VALID_ENTRY}, desk), monkeypatch)
    assert "desk-hours.yaml:4: error: 'funday' is not a day" in result.output
    assert "desk-hours.yaml:5: error: friday: '16:00-09:00' ends before it starts" in result.output
    assert result.exit_code == 1


def test_kb_list_json(tmp_path, monkeypatch):
    monkeypatch.setenv("WEGWIJS_KNOWLEDGE_DIR", str(write_folder(tmp_path / "kb", {"good.yaml": VALID_ENTRY})))
    result = CliRunner().invoke(cli, ["kb", "list", "--json"])
    row = json.loads(result.output.splitlines()[0])
    assert row["id"] == "test-gp" and row["topic"] == "gp"
    assert row["languages"] == ["en", "nl"] and row["unverified"] == 1 and row["review_by"] == "2027-05-01"


def test_shipped_knowledge_base_is_clean_and_covers_every_topic():
    result = load_knowledge(SHIPPED, today=dt.date(2026, 11, 22))
    assert [p.format() for p in result.problems if p.severity != "unverified"] == []
    entries = result.knowledge.entries
    assert len(entries) >= 40
    for topic in TOPICS:
        assert sum(e.topic == topic for e in entries) >= 2, topic
    for entry in entries:
        assert entry.sources and all(len(t.answer) <= 700 for t in entry.texts.values())
