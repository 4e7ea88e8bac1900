"""`wegwijs ask --json`: the contract in DESIGN.md, run as a user runs it."""

import json

from click.testing import CliRunner

from bot.cli import cli

FIELDS = ["text", "language", "action", "topic", "entry", "confidence", "reply", "latency_ms"]


def test_one_json_line_per_input_line_each_a_fresh_conversation(shared_data_dir, monkeypatch):
    monkeypatch.setenv("WEGWIJS_DATA_DIR", str(shared_data_dir))
    lines = ["huisarts?", "", "I want to talk to a person", "ik wil niet meer leven", "yes"]
    result = CliRunner().invoke(cli, ["ask", "--json"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["text"] for row in rows] == ["huisarts?", "I want to talk to a person",
                                             "ik wil niet meer leven", "yes"]
    assert all(list(row) == FIELDS for row in rows)
    gp, human, crisis, yes = rows
    assert (gp["action"], gp["topic"]) == ("answer", "gp") and gp["entry"].startswith("gp-")
    assert 0 < gp["confidence"] and gp["latency_ms"] > 0 and "https://" in gp["reply"]
    assert (human["action"], human["topic"], human["entry"]) == ("handover", None, None)
    assert (crisis["action"], crisis["topic"], crisis["language"]) == ("safety", "crisis_support", "nl")
    assert "113" in crisis["reply"]
    assert yes["action"] == "smalltalk"  # a fresh conversation: no earlier question to confirm


def test_a_question_as_argument(shared_data_dir, monkeypatch):
    monkeypatch.setenv("WEGWIJS_DATA_DIR", str(shared_data_dir))
    result = CliRunner().invoke(cli, ["ask", "--json", "Waar kan ik Nederlands leren?"])
    row = json.loads(result.stdout)
    assert (row["action"], row["topic"], row["language"]) == ("answer", "dutch_lessons", "nl")


def test_no_trained_model_exits_non_zero_with_a_clear_message(shared_data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("WEGWIJS_DATA_DIR", str(shared_data_dir))
    monkeypatch.setenv("WEGWIJS_RASA_MODEL_DIR", str(tmp_path / "no-models"))
    result = CliRunner().invoke(cli, ["ask", "--json", "huisarts?"])
    assert result.exit_code == 1
    assert "no trained model" in result.stderr and "wegwijs train" in result.stderr
    assert result.stdout == ""


def test_a_model_without_its_decision_layer_exits_non_zero_with_a_clear_message(
        shared_data_dir, monkeypatch, tmp_path, trained_model):
    models = tmp_path / "models"
    models.mkdir()
    (models / trained_model.name).symlink_to(trained_model)
    monkeypatch.setenv("WEGWIJS_DATA_DIR", str(shared_data_dir))
    monkeypatch.setenv("WEGWIJS_RASA_MODEL_DIR", str(models))
    result = CliRunner().invoke(cli, ["ask", "--json", "huisarts?"])
    assert result.exit_code == 1
    assert "no decision layer" in result.stderr and "wegwijs train" in result.stderr
