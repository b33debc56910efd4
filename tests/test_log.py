"""kitura.log: Kitura's line shape on the stdlib logging module."""

from __future__ import annotations

import io
import logging
import re

from kitura.log import HeliumLogger, Log, LoggerMessageType

LINE = re.compile(r"^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] \[(\w+)\] \[(\S+):(\d+) (\S+)\] (.*)$")


def test_helium_logger_prints_kitura_lines_with_the_callers_location():
    stream = io.StringIO()
    HeliumLogger.use(LoggerMessageType.INFO, stream=stream)
    try:
        Log.info("Listening on port 8080")
        Log.debug("hidden at INFO")
        Log.warning("careful")
        Log.error("Error listening on port 8080: boom")
        logging.getLogger("kitura.net").info("from the library")
    finally:
        logging.getLogger("kitura").removeHandler(HeliumLogger._handler)
        HeliumLogger._handler = None
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4
    level, filename, lineno, func, message = LINE.match(lines[0]).groups()
    assert (level, filename, func, message) == ("INFO", "test_log.py",
                                                "test_helium_logger_prints_kitura_lines_with_the_callers_location",
                                                "Listening on port 8080")
    assert [LINE.match(line).group(1) for line in lines] == ["INFO", "WARNING", "ERROR", "INFO"]


def test_verbose_entry_exit_levels():
    stream = io.StringIO()
    HeliumLogger.use(LoggerMessageType.ENTRY, stream=stream)
    try:
        Log.verbose("v")
        Log.entry("in")
        Log.exit("out")
        assert Log.is_logging(LoggerMessageType.DEBUG)
    finally:
        logging.getLogger("kitura").removeHandler(HeliumLogger._handler)
        HeliumLogger._handler = None
        logging.getLogger("kitura").setLevel(logging.NOTSET)
    assert [LINE.match(line).group(1) for line in stream.getvalue().splitlines()] == ["VERBOSE", "ENTRY"]
