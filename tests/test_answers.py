import datetime as dt

from click.testing import CliRunner

from bot.cli import cli
from bot.knowledge.answers import render_answer
from bot.knowledge.base import load_knowledge
from tests.knowledge_fixtures import SHIPPED, copy_shipped

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)


def test_desk_hours_answer_is_honest_while_hours_are_unverified():
    knowledge = load_knowledge(SHIPPED, today=dt.date(2026, 11, 22)).knowledge
    entry = knowledge.by_id["desk-hours"]
    english = render_answer(entry, "en", knowledge.desk_hours, NOW)
    dutch = render_answer(entry, "nl", knowledge.desk_hours, NOW)
    assert english.startswith("The international desk's opening hours are not confirmed yet")
    assert dutch.startswith("De openingstijden van de international desk zijn nog niet bevestigd")
    assert "{desk_status}" not in english + dutch


def test_desk_hours_answer_follows_the_desk_hours_file(tmp_path, monkeypatch):
    folder = copy_shipped(tmp_path / "kb", ["desk-hours"])
    desk = folder / "desk-hours.yaml"
    desk.write_text(desk.read_text().replace("verified: false", "verified: true")
                    .replace('  monday: []', '  monday: ["09:00-12:00"]'))
    monkeypatch.setenv("WEGWIJS_KNOWLEDGE_DIR", str(folder))
    knowledge = load_knowledge(folder).knowledge
    text = render_answer(knowledge.by_id["desk-hours"], "en", knowledge.desk_hours, NOW)
    assert text.startswith("The international desk is open now, until 12:00.")
    shown = CliRunner().invoke(cli, ["kb", "show", "desk-hours", "--lang", "nl"])
    assert shown.exit_code == 0 and "De international desk is nu" in shown.output


def test_other_languages_get_the_english_answer_and_links_follow():
    knowledge = load_knowledge(SHIPPED, today=dt.date(2026, 11, 22)).knowledge
    entry = knowledge.by_id["registration-amstelveen-first"]
    text = render_answer(entry, "tr", knowledge.desk_hours, NOW)
    assert text.startswith(entry.texts["en"].answer)
    assert text.splitlines()[-1] == entry.links[-1]


def test_kb_show_unknown_id_is_one_clear_line(monkeypatch):
    result = CliRunner().invoke(cli, ["kb", "show", "no-such-entry"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: no entry with id 'no-such-entry' (see `wegwijs kb list`)"
