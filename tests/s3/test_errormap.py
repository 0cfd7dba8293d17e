"""map_error: real botocore exceptions in, the mpu_toolkit hierarchy out."""

from __future__ import annotations

import asyncio
import pickle

import pytest
from botocore import exceptions as bce

from mpu_toolkit.errors import (AccessDenied, ConfigurationError, CredentialsError,
                                EndpointUnreachable, EntityTooSmall, IntegrityError,
                                InvalidPart, InvalidPartOrder, MPUError, NoSuchBucket,
                                NoSuchKey, NoSuchUpload, S3Error, TooManyPartsError,
                                TransientS3Error, UploadAborted, WriterClosedError)
from mpu_toolkit._s3.errormap import map_error

BUCKET, KEY = "data-bucket", "dir/big.bin"


def client_error(code: str, status: int, operation: str, message: str = "server says no",
                 request_id: str = "REQ123") -> bce.ClientError:
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": request_id},
    }
    return bce.ClientError(response, operation)


def mapped(code: str, status: int, operation: str = "UploadPart", message: str = "no",
           **kw) -> MPUError:
    return map_error(client_error(code, status, operation, message), operation=operation,
                     bucket=BUCKET, key=KEY, **kw)


@pytest.mark.parametrize("code, status, operation, cls, advice", [
    ("NoSuchUpload", 404, "UploadPart", NoSuchUpload, "start a new upload"),
    ("NoSuchBucket", 404, "CreateMultipartUpload", NoSuchBucket, "create the bucket"),
    ("AccessDenied", 403, "PutObject", AccessDenied, "s3:PutObject"),
    ("EntityTooSmall", 400, "CompleteMultipartUpload", EntityTooSmall, "raise part_size"),
    ("InvalidPart", 400, "CompleteMultipartUpload", InvalidPart, "list the parts"),
    ("InvalidPartOrder", 400, "CompleteMultipartUpload", InvalidPartOrder, "ascending"),
    ("SlowDown", 503, "UploadPart", TransientS3Error, "retry later"),
    ("InternalError", 500, "UploadPart", TransientS3Error, "retry later"),
    ("InvalidAccessKeyId", 403, "UploadPart", CredentialsError, "AWS_ACCESS_KEY_ID"),
])
def test_client_error_classes(code, status, operation, cls, advice) -> None:
    err = mapped(code, status, operation, "the server's words")
    assert type(err) is cls
    assert err.code == code and err.status == status and err.operation == operation
    assert err.bucket == BUCKET and err.key == KEY and err.request_id == "REQ123"
    text = str(err)
    assert f"mpu://{BUCKET}/{KEY}" in text          # names the object
    assert operation in text and code in text       # and the failed request
    assert "the server's words" in text
    assert advice in text                           # and says what to do


def test_builtin_bases() -> None:
    assert isinstance(mapped("NoSuchBucket", 404), FileNotFoundError)
    assert isinstance(mapped("AccessDenied", 403), PermissionError)
    assert isinstance(mapped("NoSuchUpload", 404), OSError)
    assert isinstance(mapped("NoSuchKey", 404, "HeadObject"), FileNotFoundError)


def test_no_such_bucket_advice_names_the_bucket() -> None:
    assert f"fs.mkdir('{BUCKET}')" in str(mapped("NoSuchBucket", 404))


@pytest.mark.parametrize("code, status", [("SlowDown", 503), ("InternalError", 500),
                                          ("", 500), ("WeirdCode", 502), ("", 429),
                                          ("ServiceUnavailable", 503)])
def test_transient_errors(code: str, status: int) -> None:
    err = mapped(code, status)
    assert isinstance(err, TransientS3Error)
    assert err.transient is True


@pytest.mark.parametrize("code, status", [("NoSuchUpload", 404), ("AccessDenied", 403),
                                          ("InvalidPart", 400), ("Whatever", 400)])
def test_permanent_errors_are_not_transient(code: str, status: int) -> None:
    err = mapped(code, status)
    assert isinstance(err, S3Error)
    assert err.transient is False


def test_unknown_code_falls_back_on_status() -> None:
    assert type(mapped("Weird", 404, "HeadObject")) is NoSuchKey
    assert type(mapped("Weird", 403)) is AccessDenied
    assert type(mapped("Weird", 400)) is S3Error


def test_rgw_list_parts_no_such_key_is_no_such_upload() -> None:
    assert type(mapped("NoSuchKey", 404, "ListParts")) is NoSuchUpload
    # ... but only for ListParts: elsewhere NoSuchKey means the object is missing
    assert type(mapped("NoSuchKey", 404, "HeadObject")) is NoSuchKey


def test_rgw_complete_already_in_progress_is_no_such_upload() -> None:
    err = mapped("InternalError", 500, "CompleteMultipartUpload",
                 "Completion Already In Progress")
    assert type(err) is NoSuchUpload
    assert err.transient is False  # repeating the Complete will not help
    # a plain 500 on Complete stays transient
    assert type(mapped("InternalError", 500, "CompleteMultipartUpload", "boom")) is \
        TransientS3Error


def test_endpoint_unreachable() -> None:
    url = "http://127.0.0.1:1"
    err = map_error(bce.EndpointConnectionError(endpoint_url=url), operation="PutObject",
                    bucket=BUCKET, key=KEY, endpoint=url)
    assert type(err) is EndpointUnreachable
    assert isinstance(err, ConnectionError)
    text = str(err)
    assert url in text and f"mpu://{BUCKET}/{KEY}" in text and "endpoint_url" in text


def test_connect_timeout_is_unreachable() -> None:
    err = map_error(bce.ConnectTimeoutError(endpoint_url="http://127.0.0.1:9"), bucket=BUCKET)
    assert type(err) is EndpointUnreachable
    assert "the endpoint" in str(err) and f"mpu://{BUCKET}" in str(err)


@pytest.mark.parametrize("exc", [
    ConnectionResetError("reset"),
    asyncio.TimeoutError(),
    bce.ReadTimeoutError(endpoint_url="http://x"),
])
def test_lost_connections_are_transient(exc: BaseException) -> None:
    err = map_error(exc, operation="UploadPart", bucket=BUCKET, key=KEY)
    assert type(err) is TransientS3Error and err.transient
    assert "retrying may help" in str(err) and err.operation == "UploadPart"


def test_missing_credentials() -> None:
    err = map_error(bce.NoCredentialsError(), operation="CreateMultipartUpload", bucket=BUCKET,
                    key=KEY)
    assert type(err) is CredentialsError and isinstance(err, PermissionError)
    assert "AWS_ACCESS_KEY_ID" in str(err)


def test_other_exceptions_and_passthrough() -> None:
    err = map_error(RuntimeError("odd"), operation="UploadPart", bucket=BUCKET, key=KEY)
    assert type(err) is MPUError and "odd" in str(err)
    original = NoSuchUpload("gone", code="NoSuchUpload")
    assert map_error(original) is original


def test_where_without_key() -> None:
    assert "mpu://only-bucket " in str(map_error(client_error("NoSuchBucket", 404, "ListParts"),
                                                operation="ListParts", bucket="only-bucket"))
    assert " on S3 " in str(map_error(client_error("AccessDenied", 403, "ListBuckets")))


@pytest.mark.parametrize("code, status", [("NoSuchBucket", 404), ("SlowDown", 503),
                                          ("NoSuchUpload", 404), ("AccessDenied", 403)])
def test_s3_errors_pickle_round_trip(code: str, status: int) -> None:
    err = mapped(code, status, "UploadPart", "the words")
    err.add_note("a note")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert str(back) == str(err)
    for attr in ("code", "status", "operation", "bucket", "key", "request_id", "transient"):
        assert getattr(back, attr) == getattr(err, attr), attr
    assert back.__notes__ == ["a note"]


def test_hierarchy() -> None:
    for cls in (ConfigurationError, TooManyPartsError, WriterClosedError):
        assert issubclass(cls, MPUError) and issubclass(cls, ValueError)
    assert IntegrityError.transient is True
    assert UploadAborted.transient is False


@pytest.mark.parametrize("code, status", [("NotImplemented", 501), ("MethodNotAllowed", 405),
                                          ("", 501)])
def test_unsupported_features_say_so(code, status):
    from mpu_toolkit.errors import NotSupportedByServer

    err = mapped(code, status, operation="PutBucketLifecycle")
    assert isinstance(err, NotSupportedByServer) and not err.transient
    assert "does not implement it" in str(err)


def test_checksum_refusals_say_how_to_write_instead():
    """R2's answer to a checksum it does not implement; Yandex's (and RGW 16's) to
    botocore's aws-chunked trailers: permanent, with the setting that avoids them."""
    refused = mapped("NotImplemented", 501, "PutObject",
                     "Header 'x-amz-checksum-crc64nvme' with value 'AA==' not implemented")
    assert not refused.transient and "checksum='md5'" in str(refused)
    mismatch = mapped("XAmzContentSHA256Mismatch", 400, "UploadPart")
    assert not mismatch.transient and "aws-chunked checksum trailers" in str(mismatch)
    assert "request_checksum_calculation='when_required'" in str(mismatch)


def test_messages_echo_the_scheme_the_user_wrote() -> None:
    error = map_error(client_error("NoSuchKey", 404, "HeadObject"), operation="HeadObject",
                      bucket=BUCKET, key=KEY, scheme="s3a")
    assert f"HeadObject on s3a://{BUCKET}/{KEY} failed" in str(error)


@pytest.mark.parametrize("operation, permission", [
    ("GetObject", "s3:GetObject"), ("ListParts", "s3:ListMultipartUploadParts"),
    ("AbortMultipartUpload", "s3:AbortMultipartUpload"), ("ListObjectsV2", "s3:ListBucket")])
def test_access_denied_names_the_permission_the_request_needs(operation, permission) -> None:
    error = map_error(client_error("AccessDenied", 403, operation), operation=operation,
                      bucket=BUCKET, key=KEY)
    assert isinstance(error, AccessDenied) and f"ask for {permission} on this bucket" in str(error)


@pytest.mark.parametrize("code, advice", [
    ("InvalidAccessKeyId", "does not know this access key id"),
    ("SignatureDoesNotMatch", "the secret does not match"),
    ("RequestTimeTooSkewed", "clock")])
def test_wrong_credentials_are_told_apart_from_missing_ones(code, advice) -> None:
    error = map_error(client_error(code, 403, "PutObject"), operation="PutObject",
                      bucket=BUCKET, key=KEY)
    assert isinstance(error, CredentialsError) and advice in str(error)
    assert "no credentials were found" not in str(error)


def test_a_bodyless_403_to_head_names_both_possible_causes() -> None:
    # botocore reports a HEAD's 403 with the status as its code: no body, no reason given
    error = map_error(client_error("403", 403, "HeadObject", message="Forbidden"),
                      operation="HeadObject", bucket=BUCKET, key=KEY)
    assert isinstance(error, AccessDenied)
    assert "the secret does not match the access key id" in str(error)
    assert "ask for s3:GetObject on this bucket" in str(error)
    coded = map_error(client_error("AccessDenied", 403, "GetObject"), operation="GetObject",
                      bucket=BUCKET, key=KEY)
    assert "secret" not in str(coded)  # a coded answer is not second-guessed


def test_a_bodyless_404_to_head_bucket_is_the_bucket() -> None:
    error = map_error(client_error("404", 404, "HeadBucket", message="Not Found"),
                      operation="HeadBucket", bucket=BUCKET)
    assert isinstance(error, NoSuchBucket) and "create the bucket" in str(error)



def test_a_missing_key_or_bucket_names_the_listing_that_shows_what_exists():
    from mpu_toolkit._s3.errormap import missing_path

    error = missing_path("b", "year=2026/month=01/part-0.parquet", "http://127.0.0.1:9", "s3")
    assert isinstance(error, FileNotFoundError)
    assert "`mpu ls s3://b/year=2026/month=01/` shows what exists" in str(error)
    assert "`mpu ls mpu://b/` shows" in str(missing_path("b", "top.csv", "http://127.0.0.1:9"))
    assert f"`mpu ls mpu://{BUCKET}/dir/` shows" in str(mapped("NoSuchKey", 404, "GetObject"))
    assert "`mpu ls` lists the buckets" in str(mapped("NoSuchBucket", 404, "GetObject"))
