"""Logging for the commands that run the engine: warnings and errors on stderr, never stdout.

Rasa configures its own loggers (and structlog) to print debug lines on stdout, which
would mix with the replies of `wegwijs chat` and the JSON of `wegwijs ask --json`.
"""

from __future__ import annotations

import logging
import sys
import warnings

DEPRECATIONS = (DeprecationWarning, PendingDeprecationWarning)


def configure_logging(level: int | str = logging.WARNING) -> None:
    """Our own loggers (`bot.*`) at `level`; libraries at WARNING, whatever `level` is: Rasa's
    debug lines quote the newcomers' messages."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bot").setLevel(level)
    hide_library_deprecations()  # before importing Rasa: its imports raise some
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    warnings.filterwarnings("ignore", message="Slot auto-fill has been removed")


def hide_library_deprecations() -> None:
    """Third-party deprecation notices say nothing a user or volunteer can act on. A filter is
    not enough: libraries add their own at import (Sanic shows every DeprecationWarning once;
    Rasa every UserWarning, and pyparsing's deprecations are UserWarnings too)."""
    show = warnings.showwarning
    if getattr(show, "hides_deprecations", False):
        return

    def show_unless_deprecation(message, category, *args, **kwargs):
        if not issubclass(category, DEPRECATIONS):
            show(message, category, *args, **kwargs)

    show_unless_deprecation.hides_deprecations = True
    warnings.showwarning = show_unless_deprecation
