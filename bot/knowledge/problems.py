"""Problems found in knowledge files, reported as `path:line: message` for non-developers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str
    severity: str  # "error" | "warning" | "unverified"

    def format(self, relative_to: Path | None = None) -> str:
        path = self.path
        if relative_to is not None:
            try:
                path = self.path.relative_to(relative_to)
            except ValueError:
                pass
        label = "" if self.severity == "unverified" else f"{self.severity}: "
        return f"{path}:{self.line}: {label}{self.message}"


def has_errors(problems: list[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)


class ProblemList(list):
    """Collects problems for one file; `error`/`warning` keep call sites short."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path

    def error(self, line: int, message: str) -> None:
        self.append(Problem(self.path, line, message, "error"))

    def warning(self, line: int, message: str) -> None:
        self.append(Problem(self.path, line, message, "warning"))

    def unverified(self, line: int, message: str) -> None:
        self.append(Problem(self.path, line, message, "unverified"))
