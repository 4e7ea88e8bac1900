"""Logging for the commands that run the engine: warnings and errors on stderr, never stdout.

Rasa configures its own loggers (and structlog) to print debug lines on stdout, which
would mix with the replies of `wegwijs chat` and the JSON of `wegwijs ask --json`.
"""

from __future__ import annotations

import logging
import sys
import warnings


def configure_logging(level: int | str = logging.WARNING) -> None:
    """Our own loggers (`bot.*`) at `level`; libraries at WARNING, whatever `level` is: Rasa's
    debug lines quote the newcomers' messages."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bot").setLevel(level)
    # Third-party deprecation notices say nothing a user or volunteer can act on.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
    warnings.filterwarnings("ignore", message="Slot auto-fill has been removed")
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
