"""Local S3 for demos, notebooks and tests: a moto server on 127.0.0.1 (:class:`LocalS3`) and
proxies to put in front of any S3 server: one that injects faults (:class:`FaultProxy`), one
that makes the server behave like another store (:class:`QuirkProxy`)."""

from .faults import FaultProxy
from .local import LocalS3
from .quirks import QuirkProxy

__all__ = ["LocalS3", "FaultProxy", "QuirkProxy"]
