"""Uploads a retried CreateMultipartUpload may have left behind, named in a warning.

S3 has no idempotency token for CreateMultipartUpload: a try whose answer was lost may have
started an upload that no one will finish. The candidates (other uploads of the same key) are
named, not aborted, since another writer of this key may own them.
"""

from __future__ import annotations

import logging

from .. import hints
from .._s3.client import S3Client
from ..model import ObjectRef

__all__ = ["warn_possible_orphans"]

log = logging.getLogger(__name__)


async def warn_possible_orphans(client: S3Client, ref: ObjectRef, ours: str | None) -> None:
    """Warn, naming the uploads of ``ref``'s key other than ``ours`` (the one kept)."""
    try:
        others = [u.upload_id for u in await client.list_uploads(ref.bucket, ref.key)
                  if u.key == ref.key and u.upload_id != ours]
    except Exception as exc:  # only a warning: the upload itself goes on
        log.warning("%s: could not list uploads to look for orphans: %s", ref.url, exc)
        return
    if others:
        log.warning("%s: CreateMultipartUpload was retried after its answer was lost; "
                    "it may have left incomplete upload(s) %s that no one will finish. If "
                    "no other writer uses this key, abort them (`%s`) or let a lifecycle "
                    "rule do it", ref.url, ", ".join(others),
                    hints.abort(ref.url, "ID", young=True))
