"""Looking into the data folder as an auditor would: every cell of every table of every file."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def every_cell(folder: Path) -> str:
    """The text of every cell of every table of every SQLite file in the folder."""
    cells = []
    for path in folder.glob("*.db"):
        connection = sqlite3.connect(path)
        for (table,) in connection.execute("select name from sqlite_master where type = 'table'"):
            for row in connection.execute(f'select * from "{table}"'):
                cells += [str(value) for value in row]
        connection.close()
    return "\n".join(cells)
