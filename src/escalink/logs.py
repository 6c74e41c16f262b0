"""structlog set-up: JSON lines on stderr. Callers log ids and codes, never ticket text."""

from __future__ import annotations

import logging
import sys

import stamina
import structlog


class _StderrLogger:
    """Writes each line to whatever sys.stderr is *now* (test runners swap and close it)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def configure(level: str = "INFO", *, json: bool = True) -> None:
    # The vendor client logs each retry with its real wait; stamina's own line would say it twice.
    stamina.instrumentation.set_on_retry_hooks([])
    logging.basicConfig(stream=sys.stderr, level=level.upper(), format="%(message)s")
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=lambda *_: _StderrLogger(),
        # Not cached: tests (and embedders) may reconfigure or capture logging after first use.
        cache_logger_on_first_use=False,
    )
