"""The wire layer: S3 requests on s3fs's aiobotocore client, and nothing above them.

Every request goes through one retry policy; every failure becomes one of
:mod:`mpu_toolkit.errors`. Not API: the public names are re-exported by ``mpu_toolkit``.
"""

from . import redact

redact.install()  # once, at import: no log record of the wire's libraries shows a credential
