"""Round trips a request does not need, removed from the client (one place, every request).

botocore asks for ``Expect: 100-continue`` on every PUT or POST whose body is file-like, and
aiohttp honours it: the client sends the headers, waits one round trip for ``100 Continue``,
then the body. On a 20 ms link that is 20 ms more per part, every part. What it buys is not
sending a body the server would refuse (wrong key, missing bucket); an UploadPart goes to an
upload that a request with the same credentials just created, so there it buys nothing, and
the part's digest (not the handshake) is what protects the bytes. Other requests keep it, so a
first PutObject to a wrong bucket still fails before its body is sent.
"""

from __future__ import annotations

from typing import Any

from botocore.handlers import add_expect_header

__all__ = ["install", "WITHOUT_HANDSHAKE"]

WITHOUT_HANDSHAKE = frozenset({"UploadPart"})  #: operations sent without 100-continue
_HANDLER_ID = "mpu_toolkit-expect-continue"


def _expect_continue(model: Any, params: Any, **kwargs: Any) -> None:
    if model.name not in WITHOUT_HANDSHAKE:
        add_expect_header(model, params, **kwargs)


def install(client: Any) -> None:
    """Replace botocore's Expect handler on ``client`` by one that skips UploadPart.
    Idempotent."""
    events = client.meta.events
    events.unregister("before-call.s3", add_expect_header)
    events.register("before-call.s3", _expect_continue, unique_id=_HANDLER_ID)
