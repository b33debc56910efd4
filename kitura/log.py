"""LoggerAPI and HeliumLogger for Python, on the standard ``logging`` module.

``Log.info("...")`` is Kitura's ``Log.info("...")``; ``HeliumLogger.use(LoggerMessageType.INFO)``
installs a handler on the ``kitura`` logger (and the root logger's children that
user code creates through ``Log``) printing Kitura's line shape::

    [2026-11-25T17:03:06.123Z] [INFO] [server.py:124 listen] Listening on port 8080

The library itself never configures handlers; only ``HeliumLogger.use`` does, so any
other Python logging setup works as well. This module imports nothing from kitura.
"""

from __future__ import annotations

import enum
import logging
import sys
import time
from typing import Any, TextIO

__all__ = ["LoggerMessageType", "Log", "HeliumLogger", "KituraFormatter", "LOGGER_NAME"]

#: Every logger of the library and of ``Log`` is a child of this one.
LOGGER_NAME = "kitura"

VERBOSE = 15
ENTRY = 6
EXIT = 5
logging.addLevelName(VERBOSE, "VERBOSE")
logging.addLevelName(ENTRY, "ENTRY")
logging.addLevelName(EXIT, "EXIT")


class LoggerMessageType(enum.Enum):
    """Kitura's message types, each mapped to a stdlib logging level (``.level``)."""

    ENTRY = ENTRY
    EXIT = EXIT
    DEBUG = logging.DEBUG
    VERBOSE = VERBOSE
    INFO = logging.INFO
    WARNING = logging.WARNING
    ERROR = logging.ERROR

    @property
    def level(self) -> int:
        return int(self.value)


_app_logger = logging.getLogger(LOGGER_NAME + ".app")


class _LogType(type):
    """Lets ``Log.logger = HeliumLogger()`` install the HeliumLogger, as the Swift line does."""

    def __setattr__(cls, name: str, value: Any) -> None:
        if name == "logger":
            if isinstance(value, HeliumLogger):
                value._install()
            elif not (callable(getattr(value, "isEnabledFor", None)) and callable(getattr(value, "log", None))):
                raise TypeError(f"Log.logger takes a HeliumLogger or a logging.Logger, not {type(value).__name__}")
        super().__setattr__(name, value)


class Log(metaclass=_LogType):
    """Kitura's ``Log`` facade: ``Log.error(...)``, ``Log.info(...)``...

    Records carry the caller's file, line and function, as LoggerAPI does.
    ``Log.logger`` is where they go: a ``logging.Logger`` (the ``kitura.app`` logger
    by default), or a ``HeliumLogger()``, which prints them, and the library's own
    messages, in Kitura's format (``Log.logger = HeliumLogger(LoggerMessageType.INFO)``).
    """

    logger: "logging.Logger | HeliumLogger" = _app_logger

    @classmethod
    def _log(cls, level: int, msg: Any) -> None:
        logger = cls.logger
        if logger.isEnabledFor(level):
            logger.log(level, "%s", msg, stacklevel=3)

    @classmethod
    def verbose(cls, msg: Any) -> None:
        cls._log(VERBOSE, msg)

    @classmethod
    def debug(cls, msg: Any) -> None:
        cls._log(logging.DEBUG, msg)

    @classmethod
    def info(cls, msg: Any) -> None:
        cls._log(logging.INFO, msg)

    @classmethod
    def warning(cls, msg: Any) -> None:
        cls._log(logging.WARNING, msg)

    @classmethod
    def error(cls, msg: Any) -> None:
        cls._log(logging.ERROR, msg)

    @classmethod
    def entry(cls, msg: Any = "") -> None:
        cls._log(ENTRY, msg)

    @classmethod
    def exit(cls, msg: Any = "") -> None:
        cls._log(EXIT, msg)

    @classmethod
    def is_logging(cls, level: LoggerMessageType) -> bool:
        """Kitura's ``Log.isLogging(_:)``: would a message of this type be printed?"""
        return cls.logger.isEnabledFor(level.level)


class KituraFormatter(logging.Formatter):
    """``[timestamp] [LEVEL] [file:line function] message``, UTC timestamps with milliseconds."""

    def __init__(self, details: bool = True) -> None:
        super().__init__()
        self.details = details

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        t = time.gmtime(record.created)
        return "%s.%03dZ" % (time.strftime("%Y-%m-%dT%H:%M:%S", t), int(record.msecs))

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if self.details:
            line = "[%s] [%s] [%s:%d %s] %s" % (
                self.formatTime(record),
                record.levelname,
                record.filename,
                record.lineno,
                record.funcName,
                message,
            )
        else:
            line = "[%s] [%s] %s" % (self.formatTime(record), record.levelname, message)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class HeliumLogger:
    """Kitura's HeliumLogger: ``Log.logger = HeliumLogger()`` or ``HeliumLogger.use(LoggerMessageType.INFO)``.

    Prints messages of ``type`` and above on stderr (or ``stream``) in Kitura's format,
    from ``Log`` and from the library. Making one prints nothing; assigning it to
    ``Log.logger`` (what ``use`` does) installs it, replacing any earlier HeliumLogger.
    """

    _handler: logging.Handler | None = None

    def __init__(
        self,
        type: LoggerMessageType = LoggerMessageType.VERBOSE,  # noqa: A002 - Kitura's label
        stream: TextIO | None = None,
        details: bool = True,
    ) -> None:
        self.type = type
        self.stream = stream
        self.details = details
        self.handler: logging.Handler | None = None

    def _install(self) -> logging.Handler:
        logger = logging.getLogger(LOGGER_NAME)
        old = HeliumLogger._handler
        if old is not None:
            logger.removeHandler(old)
        handler = logging.StreamHandler(self.stream if self.stream is not None else sys.stderr)
        handler.setFormatter(KituraFormatter(details=self.details))
        logger.addHandler(handler)
        logger.setLevel(self.type.level)
        logger.propagate = False
        HeliumLogger._handler = self.handler = handler
        return handler

    # The logger protocol Log uses: messages go to the kitura.app logger, which the
    # installed handler prints.
    def isEnabledFor(self, level: int) -> bool:  # noqa: N802 - logging's name
        return _app_logger.isEnabledFor(level)

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1
        _app_logger.log(level, msg, *args, **kwargs)

    @classmethod
    def use(
        cls,
        type: LoggerMessageType = LoggerMessageType.VERBOSE,  # noqa: A002 - Kitura's label
        stream: TextIO | None = None,
        details: bool = True,
    ) -> logging.Handler:
        """``Log.logger = HeliumLogger(type, stream, details)``; returns the handler it installed.

        Calling it again replaces the previous handler.
        """
        helium = cls(type, stream, details)
        Log.logger = helium  # type: ignore[assignment]
        assert helium.handler is not None
        return helium.handler
