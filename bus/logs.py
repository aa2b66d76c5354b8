"""Logs for people and for machines: ``--log-format text|json``, ``--log-level``.

JSON is one object per line: ``ts``, ``level``, ``logger``, ``event`` (the message),
and the fields a call carries (``registry``, ``operation``, ``request_id``, ``outcome``,
``reason``, ``attempts``, ``latency_ms``, ...) passed as ``extra=``. Nothing a person
can be identified by is written: every 12-digit number (an IIN or a BIN) in a message or
a field is replaced by a keyed hash (``iin:5f1c9a0b``), the same within one process (or
across processes sharing ``REGBUS_LOG_SALT``), so one subject's lines can still be
followed without the number.

    configure_logging("json", "INFO", worker=None)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

FORMATS = ("text", "json")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# Twelve digits standing alone: an IIN or a BIN (also inside a longer text), but not a
# group of a UUID or another identifier made of letters, digits and hyphens.
_NUMBER = re.compile(r"(?<![0-9A-Za-z-])[0-9]{12}(?![0-9A-Za-z-])")
# LogRecord's own attributes; anything else on a record came from ``extra=``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class Masker:
    """Replaces identification numbers with a keyed hash."""

    def __init__(self, salt: bytes | None = None) -> None:
        configured = os.environ.get("REGBUS_LOG_SALT", "")
        self._key = salt or (configured.encode() if configured else secrets.token_bytes(16))

    def token(self, number: str) -> str:
        digest = hmac.new(self._key, number.encode(), hashlib.sha256).hexdigest()
        return f"iin:{digest[:8]}"

    def text(self, value: str) -> str:
        return _NUMBER.sub(lambda m: self.token(m.group(0)), value)

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value


class JsonFormatter(logging.Formatter):
    """One JSON object per line, identification numbers masked."""

    def __init__(self, masker: Masker, static: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.masker = masker
        self.static = static or {}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": self.masker.text(record.getMessage()),
            **self.static,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = self.masker.value(value)
        if record.exc_info:
            entry["error"] = self.masker.text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The classic line, identification numbers masked and ``extra=`` fields appended
    as ``key=value`` (values quoted when they hold spaces, quotes or line breaks)."""

    def __init__(self, masker: Masker, fmt: str) -> None:
        super().__init__(fmt)
        self.masker = masker

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = [
            f"{key}={_quoted(self.masker.value(value))}"
            for key, value in vars(record).items()
            if key not in _STANDARD and not key.startswith("_")
        ]
        text = self.masker.text(line)
        return f"{text} {' '.join(fields)}" if fields else text


def _quoted(value: Any) -> str:
    text = str(value)
    if text and not any(c in text for c in ' "=\\') and text.isprintable():
        return text
    return json.dumps(text, ensure_ascii=False)


def configure_logging(
    log_format: str = "text",
    level: str = "INFO",
    *,
    worker: int | None = None,
    stream: TextIO | None = None,
) -> None:
    """Send every log line to ``stream`` (stderr) in ``log_format`` at ``level``."""
    if log_format not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {log_format!r}")
    if level.upper() not in LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LEVELS)}, got {level!r}")
    masker = Masker()
    handler = logging.StreamHandler(stream or sys.stderr)
    if log_format == "json":
        static = {} if worker is None else {"worker": worker, "pid": os.getpid()}
        handler.setFormatter(JsonFormatter(masker, static))
    else:
        tag = "" if worker is None else f" [worker {worker} pid %(process)d]"
        handler.setFormatter(
            TextFormatter(masker, f"%(asctime)s %(levelname)s %(name)s{tag}: %(message)s")
        )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("zeep").setLevel(logging.WARNING)  # its DEBUG log shows ШЭП passwords
