"""Local S3 for demos, notebooks and tests: a moto server on 127.0.0.1 (:class:`LocalS3`) and
a fault-injecting proxy to put in front of any S3 server (:class:`FaultProxy`)."""

from .faults import FaultProxy
from .local import LocalS3

__all__ = ["LocalS3", "FaultProxy"]
