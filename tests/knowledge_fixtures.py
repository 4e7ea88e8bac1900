"""Small knowledge folders for tests, written as a comms officer would write them."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "knowledge"

VALID_ENTRY = """\
id: test-gp
topic: gp
owner: Communicatie Amstelveen
last_reviewed: 2026-11-01
review_by: 2027-05-01
sources:
  - https://gpinfo.nl/choosing-gp
links: []
unverified:
  - Whether practices register online.
en:
  title: Registering with a GP
  answer: >-
    Register with a GP near your home. Bring ID, your BSN and insurance details.
  questions:
    - how do I register with a GP
nl:
  title: Inschrijven bij een huisarts
  answer: >-
    Schrijf u in bij een huisarts bij u in de buurt.
  questions:
    - hoe schrijf ik me in bij een huisarts
"""

DESK_HOURS = """\
verified: false
weekly: {}
exceptions: []
location:
  en: the public hall
  nl: de publiekshal
"""


def write_folder(folder: Path, entries: dict[str, str], desk_hours: str = DESK_HOURS) -> Path:
    (folder / "entries").mkdir(parents=True, exist_ok=True)
    (folder / "desk-hours.yaml").write_text(desk_hours)
    for name, text in entries.items():
        (folder / "entries" / name).write_text(text)
    return folder


def copy_shipped(folder: Path, entry_ids: list[str], other_languages: bool = True) -> Path:
    """A copy of the shipped desk hours and the given shipped entries; without their example
    questions in other languages than English and Dutch if `other_languages` is false (about
    150 per entry: embedding them takes seconds that a test of the index's bookkeeping need not)."""
    (folder / "entries").mkdir(parents=True)
    shutil.copy(SHIPPED / "desk-hours.yaml", folder / "desk-hours.yaml")
    for entry_id in entry_ids:
        text = (SHIPPED / "entries" / f"{entry_id}.yaml").read_text()
        (folder / "entries" / f"{entry_id}.yaml").write_text(
            text if other_languages else _without_block(text, "other_questions:"))
    return folder


def _without_block(text: str, key: str) -> str:
    """`text` without the top-level YAML block that starts with `key`."""
    kept, inside = [], False
    for line in text.split("\n"):
        if line.startswith(key):
            inside = True
        elif inside and line and not line.startswith((" ", "#")):
            inside = False
        if not inside:
            kept.append(line)
    return "\n".join(kept)
