"""`wegwijs doctor`: is this machine ready to run Wegwijs? One line per check, with a fix."""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from bot.embedding import Embedder, ModelUnavailable, is_model_path
from bot.model_build import ModelBuildError, verify_model_folder
from bot.settings import PROJECT_ROOT, Settings

STACK = ["rasa", "sentence-transformers", "torch", "tensorflow", "python-telegram-bot",
         "sqlite-utils", "transformers", "numpy"]


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        text = f"[{mark}] {self.name}: {self.detail}"
        return text if self.ok else f"{text}\n       fix: {self.fix}"


def locked_versions(lock: Path = PROJECT_ROOT / "requirements.lock") -> dict[str, str]:
    pins = {}
    for line in lock.read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def check_python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    return Check("python", sys.version_info[:2] == (3, 11), version,
                 "use Python 3.11 (make setup creates .venv with python3.11)")


def check_stack() -> Check:
    pins = locked_versions()
    problems, found = [], []
    for name in STACK:
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name} missing")
            continue
        found.append(f"{name} {installed}")
        if pins.get(name) and installed != pins[name]:
            problems.append(f"{name} {installed} (lock says {pins[name]})")
    if problems:
        return Check("stack", False, "; ".join(problems), "run `make setup`")
    return Check("stack", True, ", ".join(found))


def check_model(settings: Settings) -> Check:
    model = settings.model
    try:
        if is_model_path(model) and Path(model).expanduser() == settings.built_model_dir:
            verify_model_folder(settings.built_model_dir)
        vector = Embedder(model).queries(["huisarts"])[0]
    except (ModelUnavailable, ModelBuildError) as error:
        return Check("model", False, str(error), "run `make setup`, or set WEGWIJS_MODEL to a model folder or hub name")
    return Check("model", True, f"{model} loads ({len(vector)} dimensions)")


def check_data_dir(settings: Settings) -> Check:
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=settings.data_dir):
            pass
    except OSError as error:
        return Check("data dir", False, f"{settings.data_dir}: {error.strerror}",
                     "set WEGWIJS_DATA_DIR to a writable folder")
    return Check("data dir", True, f"{settings.data_dir} is writable")


def run_checks(settings: Settings) -> list[Check]:
    return [check_python(), check_stack(), check_data_dir(settings), check_model(settings)]
