"""Keep credentials out of logs, botocore's included, at every level.

At DEBUG botocore prints each request's headers (``botocore.endpoint``: the session token,
and the access key id in ``Authorization``), its canonical requests and strings to sign
(``botocore.auth``: ``x-amz-security-token:…``, a presigned URL's ``X-Amz-Credential=``) and
response bodies (``botocore.parsers``: an STS answer's ``<SessionToken>``). Every record of
the wire's loggers (:data:`NAMESPACES`) is scrubbed as it is created: its message, formatted
once, has every credential replaced by ``<redacted>``, found by pattern (the header, query,
XML, JSON and config-file names above) and by value (the key, secret and token each
filesystem was given: :func:`remember`).

Why at creation, through :func:`logging.setLogRecordFactory`: a filter on a logger sees only
the records made on that very logger (not its children's, not loggers made later), and
handlers are the application's. Every record of every logger is made by the record factory,
so wrapping it covers botocore's loggers of today and tomorrow, whichever handler receives
them. It costs a name check per record; the scrubbing runs only for records of the wire's
loggers, which exist only when the application enabled their level. An application that
later sets its own record factory without calling the previous one turns this off.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any, Callable
from urllib.parse import quote

__all__ = ["NAMESPACES", "REDACTED", "install", "remember", "scrub"]

#: top-level logger names whose records are scrubbed: the wire's libraries, and ours
NAMESPACES = frozenset({"botocore", "aiobotocore", "boto3", "s3transfer", "s3fs", "fsspec",
                        "urllib3", "aiohttp", "mpu_toolkit"})
REDACTED = "<redacted>"
_MIN_LENGTH = 8  # shorter values (moto's "testing") are no secret, and would garble the log

_NAMES = ("x-amz-security-token", "x-amz-s3session-token", "x-amz-sso_bearer_token",
          "aws_session_token", "aws_secret_access_key", "aws_access_key_id", "sessiontoken",
          "secretaccesskey", "accesskeyid", "webidentitytoken")
#: a named credential's value: header (``name: v``), dict repr (``'name': b'v'``), query
#: string (``name=v&``), XML (``<name>v<``) or JSON (``"name": "v"``); not the ``b`` of a
#: ``b'<redacted>'`` already scrubbed, nor a value's own leading ``b``/``B`` (case-sensitive ``b``,
#: and only before a quote)
_NAMED = re.compile(r"(?i)((?:%s)(?:['\"]?\s*[:=]\s*(?:(?-i:b)?['\"])?|>))(?!(?-i:b)['\"])"
                    r"[^\s'\"&<,}]+"
                    % "|".join(map(re.escape, _NAMES)))
#: the access key id of SigV4's ``Credential=`` (header) or ``X-Amz-Credential=`` (query)
_CREDENTIAL = re.compile(r"(Credential=)[^/\s'\"&,]+")
#: the access key id of SigV2's ``Authorization: AWS <key id>:<signature>``
_SIGV2 = re.compile(r"(?i)(Authorization['\"]?\s*[:=]\s*b?['\"]?AWS )[^:\s'\"]+")

_known: tuple[str, ...] = ()
_lock = threading.Lock()
_installed = False


def remember(*values: Any) -> None:
    """Redact these credential values (and their URL-encoded forms) wherever they appear;
    ``None`` and short values are ignored."""
    global _known
    forms = {form for value in values if isinstance(value, str) and len(value) >= _MIN_LENGTH
             for form in (value, quote(value, safe=""))}
    with _lock:
        if not forms <= set(_known):  # longest first: a value inside another goes whole
            _known = tuple(sorted(forms | set(_known), key=len, reverse=True))


def scrub(text: str) -> str:
    """``text`` with every credential it shows replaced by ``<redacted>``."""
    for value in _known:
        if value in text:
            text = text.replace(value, REDACTED)
    text = _NAMED.sub(rf"\1{REDACTED}", text)
    text = _CREDENTIAL.sub(rf"\1{REDACTED}", text)
    return _SIGV2.sub(rf"\1{REDACTED}", text)


def _scrub_record(record: logging.LogRecord) -> None:
    """The message formatted once and scrubbed (its arguments dropped: their reprs could
    show what the message does not); an exception's text replaces it if it shows one."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format: logging reports it when the record is emitted
        return
    record.msg, record.args = scrub(message), ()
    if record.exc_info and record.exc_info[1] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        clean = scrub(text)
        if clean != text:  # standard formatters print exc_text even without exc_info
            record.exc_info, record.exc_text = None, clean


class _RedactingFactory:
    """The record factory it wraps, then :func:`_scrub_record` for the wire's loggers."""

    def __init__(self, make: Callable[..., logging.LogRecord]) -> None:
        self.make = make

    def __call__(self, name: str, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.make(name, *args, **kwargs)
        if name.partition(".")[0] in NAMESPACES:
            _scrub_record(record)
        return record


def install() -> None:
    """Wrap the process's log record factory (once; idempotent)."""
    global _installed
    with _lock:
        if not _installed:
            logging.setLogRecordFactory(_RedactingFactory(logging.getLogRecordFactory()))
            _installed = True
