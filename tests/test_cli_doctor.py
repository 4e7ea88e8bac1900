from click.testing import CliRunner

from bot.cli import cli


def test_doctor_reports_every_check_green(data_dir):
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 0, result.output
    for check in ["python", "stack", "data dir", "model"]:
        assert f"[ok  ] {check}:" in result.output
    assert data_dir.is_dir()


def test_doctor_with_a_model_path_that_does_not_exist(data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("WEGWIJS_MODEL", str(tmp_path / "missing-model"))
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 1
    assert "[FAIL] model: embedding model folder" in result.output
    assert "Traceback" not in result.output


def test_doctor_with_a_data_dir_that_cannot_be_written(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("WEGWIJS_DATA_DIR", str(blocker / "data"))
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 1
    assert "[FAIL] data dir:" in result.output


def test_a_command_that_needs_the_model_gives_one_clear_line(data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("WEGWIJS_MODEL", str(tmp_path / "missing-model"))
    result = CliRunner().invoke(cli, ["eval", "retrieval"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: embedding model folder")
    assert "run `make setup`, or set WEGWIJS_MODEL" in lines[0]
