"""Load the whole knowledge folder: every entry plus the desk hours, with all problems found."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from bot.knowledge.desk_hours import DeskHours, parse_desk_hours
from bot.knowledge.entries import Entry, parse_entry
from bot.knowledge.problems import Problem, ProblemList, has_errors
from bot.knowledge.yaml_lines import Located, YamlSyntaxError, load_located

DESK_HOURS_FILE = "desk-hours.yaml"
ENTRIES_FOLDER = "entries"


@dataclass(frozen=True)
class KnowledgeBase:
    entries: tuple[Entry, ...]
    desk_hours: DeskHours

    @cached_property
    def by_id(self) -> dict[str, Entry]:
        return {entry.id: entry for entry in self.entries}


@dataclass
class LoadResult:
    knowledge: KnowledgeBase | None
    problems: list[Problem] = field(default_factory=list)

    def of(self, severity: str) -> list[Problem]:
        return [p for p in self.problems if p.severity == severity]


class KnowledgeError(Exception):
    """The knowledge folder has errors; `problems` says where."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        first = problems[0].format() if problems else "no knowledge found"
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(f"{first}{more}")


def knowledge_files(folder: Path) -> list[Path]:
    return [folder / DESK_HOURS_FILE, *sorted((folder / ENTRIES_FOLDER).glob("*.yaml"))]


def _read(path: Path, problems: ProblemList) -> Located | None:
    try:
        return load_located(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        problems.error(1, "the file is not saved as UTF-8 text; save it again as UTF-8")
    except YamlSyntaxError as error:
        problems.error(error.line, f"the file cannot be read here ({error.message}); "
                                   "check the indentation and put text containing ': ' in quotes")
    return None


def load_knowledge(folder: Path, today: dt.date | None = None) -> LoadResult:
    """Parse and validate every file; the knowledge base is None when any file has an error."""
    today = today or dt.date.today()
    problems: list[Problem] = []
    desk_path = folder / DESK_HOURS_FILE
    desk_problems = ProblemList(desk_path)
    desk_hours = None
    if desk_path.is_file():
        doc = _read(desk_path, desk_problems)
        desk_hours = parse_desk_hours(doc, desk_problems) if doc else None
    else:
        desk_problems.error(1, "the desk hours file is missing")
    problems += desk_problems

    entries: list[Entry] = []
    first_seen: dict[str, Path] = {}
    for path in sorted((folder / ENTRIES_FOLDER).glob("*.yaml")):
        file_problems = ProblemList(path)
        doc = _read(path, file_problems)
        entry = parse_entry(doc, file_problems, today) if doc else None
        if entry:
            if entry.id in first_seen:
                file_problems.error(doc.line_of("id"), f"id '{entry.id}' is already used by {first_seen[entry.id].name}")
            else:
                first_seen[entry.id] = path
                entries.append(entry)
        problems += file_problems

    if not entries and not has_errors(problems):
        problems.append(Problem(folder / ENTRIES_FOLDER, 1, "there are no entries (*.yaml files)", "error"))

    if has_errors(problems):
        return LoadResult(None, problems)
    return LoadResult(KnowledgeBase(tuple(entries), desk_hours), problems)
