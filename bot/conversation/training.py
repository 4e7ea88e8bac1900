"""Training the Rasa model: dialogue data from nlu/ and stories/, plus the knowledge questions.

The example questions of every knowledge entry become NLU examples of `ask_question` (or of
`safety` for the safety entries), so the classifier sees hundreds of real questions in many
languages. Answers never depend on training: retrieval reads the knowledge base live.

A model is named after a fingerprint of everything that goes into it, so `wegwijs train`
(and `make run`) only train when something changed.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from bot.knowledge.base import KnowledgeBase
from bot.settings import PROJECT_ROOT, Settings

CONFIG = PROJECT_ROOT / "config.yml"
DOMAIN = PROJECT_ROOT / "domain.yml"
DIALOGUE_DATA = (PROJECT_ROOT / "nlu", PROJECT_ROOT / "stories")


class ModelNotTrained(Exception):
    """No trained Rasa model exists yet."""


class TrainingFailed(Exception):
    """`rasa train` did not produce a model."""


def knowledge_nlu(knowledge: KnowledgeBase) -> str:
    """Rasa NLU YAML with every entry's example questions, in all their languages."""
    examples: dict[str, list[str]] = {"ask_question": [], "safety": []}
    for entry in knowledge.entries:
        intent = "safety" if entry.is_safety else "ask_question"
        for questions in entry.questions_by_language().values():
            examples[intent] += [q.strip() for q in questions if q.strip()]
    blocks = [{"intent": intent, "examples": "".join(f"- {q}\n" for q in dict.fromkeys(texts))}
              for intent, texts in examples.items()]
    return yaml.safe_dump({"version": "3.1", "nlu": blocks}, allow_unicode=True, sort_keys=False)


def _examples(nlu_yaml: str) -> list[tuple[str, str]]:
    """(intent, text) of every example in Rasa NLU YAML."""
    return [(block["intent"], line[2:].strip()) for block in yaml.safe_load(nlu_yaml)["nlu"]
            for line in block["examples"].splitlines() if line.strip()]


def dialogue_examples() -> list[tuple[str, str]]:
    """(intent, text) of the examples in nlu/ (greetings, requests for a person, out of scope, ...)."""
    return [example for path in sorted((PROJECT_ROOT / "nlu").rglob("*.yml"))
            for example in _examples(path.read_text(encoding="utf-8"))]


def training_examples(knowledge: KnowledgeBase) -> set[str]:
    """Every NLU example text, case-folded (to keep evaluation questions held out)."""
    return {text.casefold() for _, text in [*dialogue_examples(), *_examples(knowledge_nlu(knowledge))]}


def _data_files() -> list[Path]:
    return sorted(p for folder in DIALOGUE_DATA for p in folder.rglob("*.yml"))


def fingerprint(knowledge: KnowledgeBase, config: Path = CONFIG) -> str:
    digest = hashlib.sha256(config.read_bytes())
    for path in [DOMAIN, *_data_files()]:
        digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    digest.update(knowledge_nlu(knowledge).encode())
    return digest.hexdigest()[:16]


def model_path(settings: Settings, knowledge: KnowledgeBase, config: Path = CONFIG) -> Path:
    """Where the model for the current data lives (it may not be trained yet)."""
    stem = "wegwijs" if config == CONFIG else config.stem
    return settings.rasa_model_dir / f"{stem}-{fingerprint(knowledge, config)}.tar.gz"


def write_stock_config(folder: Path) -> Path:
    """config.yml without our own components: Rasa's stock pipeline, the baseline of `wegwijs eval`."""
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    config["pipeline"] = [c for c in config["pipeline"] if not c["name"].startswith("bot.")]
    path = folder / "stock.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def latest_model(settings: Settings) -> Path:
    """The newest trained Wegwijs model."""
    models = sorted(settings.rasa_model_dir.glob("wegwijs-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise ModelNotTrained(f"no trained model in {settings.rasa_model_dir}: run `wegwijs train`")
    return models[-1]


def _rasa(*args: str, capture: bool) -> subprocess.CompletedProcess:
    """Run Rasa's command line in this environment, in the project folder.

    Not captured, its progress (a minute or two of training) goes to our stderr.
    """
    command = [sys.executable, "-m", "bot.conversation.rasa_command", *args]
    output = {"capture_output": True} if capture else {"stdout": sys.stderr}
    return subprocess.run(command, cwd=PROJECT_ROOT, text=True, **output)


def with_training_files(knowledge: KnowledgeBase, work: Path) -> list[str]:
    generated = work / "knowledge_questions.yml"
    generated.write_text(knowledge_nlu(knowledge), encoding="utf-8")
    return [str(folder) for folder in DIALOGUE_DATA] + [str(generated)]


def validate(knowledge: KnowledgeBase) -> subprocess.CompletedProcess:
    """`rasa data validate` over exactly the data that training uses."""
    with tempfile.TemporaryDirectory() as work:
        data = with_training_files(knowledge, Path(work))
        return _rasa("data", "validate", "--fail-on-warnings", "--domain", str(DOMAIN),
                     "--config", str(CONFIG), "--data", *data, capture=True)


def train(settings: Settings, knowledge: KnowledgeBase, config: Path = CONFIG,
          force: bool = False) -> tuple[Path, bool]:
    """Train unless a model for the same data exists; returns (model, trained now)."""
    target = model_path(settings, knowledge, config)
    if target.is_file() and not force:
        return target, False
    settings.rasa_model_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        data = with_training_files(knowledge, Path(work))
        result = _rasa("train", "--domain", str(DOMAIN), "--config", str(config),
                       "--data", *data, "--out", str(target.parent),
                       "--fixed-model-name", target.name.removesuffix(".tar.gz"), "--force",
                       capture=False)
    if result.returncode != 0 or not target.is_file():
        raise TrainingFailed(f"rasa train failed (exit {result.returncode}); its output is above")
    stem = target.name.split("-")[0]
    for outdated in settings.rasa_model_dir.glob(f"{stem}-*.tar.gz"):
        if outdated != target:
            outdated.unlink()  # ~60 MB each; only the model of the current data is used
    return target, True
