"""Keep credentials out of logs, botocore's included.

mpu_toolkit's own log lines never carry credentials. botocore's DEBUG request log
(``botocore.endpoint``) prints each request's Authorization header, which names the access
key id; a filter on that logger rewrites ``Credential=<key id>/`` to
``Credential=<redacted>/``. It runs only for records that logger emits (at DEBUG), so it
costs nothing otherwise. Secret keys never reach any log: botocore does not print them.
"""

from __future__ import annotations

import logging
import re

__all__ = ["install"]

_CREDENTIAL = re.compile(r"Credential=[^/\s'\"]+/")
_LOGGERS = ("botocore.endpoint", "aiobotocore.endpoint")


class RedactCredentials(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "Credential=" in message:
            record.msg, record.args = _CREDENTIAL.sub("Credential=<redacted>/", message), ()
        return True


_FILTER = RedactCredentials()


def install() -> None:
    """Add the filter to botocore's request loggers (once; idempotent)."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
