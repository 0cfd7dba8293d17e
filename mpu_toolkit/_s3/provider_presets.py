"""The provider presets, as plain records: the values of :class:`.providers.Provider`.

Every value comes from the provider's documentation, read 2026-11-30 (the ``sources`` of each
record), from reports where the documentation is silent (marked third-party), or from
measurements on this project's test servers (moto, Ceph RGW 16): those are named in the
record's ``measured`` (field -> how it was measured), and docs/providers.md shows each value's
provenance (``python docs/gen_providers.py > docs/providers.md``). ``None`` means unknown:
the toolkit then checks instead of relying (a HEAD before an exclusive write ...). Fields left
out take the defaults of :class:`.providers.Provider`: S3's part rules, flexible checksums
only when required, payload signing off.
"""

from __future__ import annotations

from typing import Any, Mapping

from .. import hints

__all__ = ["PRESETS"]

_READ = " (read 2026-11-30)"
#: botocore's own defaults (>= 1.36), made for AWS: a CRC32 with every PutObject/UploadPart
_WHEN_SUPPORTED = {"request_checksum_calculation": "when_supported",
                   "response_checksum_validation": "when_supported"}


def _measured(server: str, **how: str) -> dict[str, str]:
    """A record's ``measured``: each field's measurement, naming the server it was made on."""
    return {name: f"{server}, measured here: {line}" for name, line in how.items()}


PRESETS: tuple[Mapping[str, Any], ...] = (
    dict(
        name="s3-compatible", title="S3-compatible store (generic)",
        quirks=("many stores reject or ignore botocore >= 1.36's default CRC32 trailers: "
                "flexible checksums are sent only when an operation requires them",),
        sources=("https://github.com/boto/boto3/issues/4392" + _READ,
                 "https://github.com/boto/boto3/issues/4400" + _READ),
    ),
    dict(
        name="aws", title="Amazon S3",
        # endpoint and region: botocore's (the profile, AWS_REGION; s3.{region}.amazonaws.com)
        addressing="virtual", client_config=_WHEN_SUPPORTED,
        lifecycle=True, if_none_match_put=True, if_none_match_complete=True, if_match=True,
        copy_source_if_match=True,
        checksum="crc32c",  # verified per part, composite over the object; in hardware
        console="https://console.aws.amazon.com/s3/",
        pricing="https://aws.amazon.com/s3/pricing/",
        quirks=("Complete may answer 200 OK with an error body: botocore raises it, retried as "
                "transient",
                "incomplete uploads are billed until aborted: set an abort rule "
                f"(`{hints.lifecycle()}`)"),
        sources=("https://docs.aws.amazon.com/general/latest/gr/s3.html" + _READ,
                 "https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html" + _READ,
                 "https://docs.aws.amazon.com/AmazonS3/latest/userguide/"
                 "mpu-abort-incomplete-mpu-lifecycle-config.html" + _READ,
                 "https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html"
                 + _READ,
                 "https://docs.aws.amazon.com/sdkref/latest/guide/feature-dataintegrity.html"
                 + _READ),
    ),
    dict(
        name="yandex", title="Yandex Object Storage",
        endpoint="https://storage.yandexcloud.net", region="ru-central1", addressing="path",
        lifecycle=True, if_none_match_put=True, if_match=True,
        checksum="sha256-payload",  # its XAmzContentSHA256Mismatch: the signed hash is checked
        console="https://console.yandex.cloud",
        pricing="https://yandex.cloud/en/docs/storage/pricing",
        quirks=("path-style addressing: bucket names with dots fail HTTPS as virtual hosts",
                "incomplete uploads are billed like stored objects",
                "conditional headers are documented for PutObject only, not for Complete"),
        sources=("https://yandex.cloud/en/docs/storage/s3" + _READ,
                 "https://yandex.cloud/en/docs/storage/tools/aws-cli" + _READ,
                 "https://yandex.cloud/en/docs/storage/concepts/limits" + _READ,
                 "https://yandex.cloud/en/docs/storage/concepts/multipart" + _READ,
                 "https://yandex.cloud/en/docs/storage/s3/api-ref/lifecycles/xml-config" + _READ,
                 "https://yandex.cloud/en/docs/storage/s3/api-ref/object/upload" + _READ,
                 "https://github.com/yandex-cloud/docs/blob/HEAD/en/presets.yaml" + _READ),
    ),
    dict(
        name="vk", title="VK Cloud Object Storage",
        endpoint="https://hb.ru-msk.vkcloud-storage.ru", region="ru-msk", addressing="virtual",
        lifecycle=True,
        console="https://msk.cloud.vk.com/app/", pricing="https://cloud.vk.com/pricing/",
        quirks=("older endpoints: hb.bizmrg.com, hb.vkcs.cloud",
                "a CRC32C checksum mismatch was reported with newer clients (third-party)",
                "UploadPartCopy and ListMultipartUploads are not documented",
                "uploaded parts are billed until Complete or Abort"),
        sources=("https://cloud.vk.com/docs/en/storage/s3/concepts/s3-api" + _READ,
                 "https://cloud.vk.com/docs/en/storage/s3/s3-rest-api/multipart-api" + _READ,
                 "https://github.com/nixys/nxs-backup/issues/110 (third-party)" + _READ),
    ),
    dict(
        name="selectel", title="Selectel S3",
        endpoint="https://s3.{region}.storage.selcloud.ru", region="ru-1", addressing="path",
        if_none_match_put=True,
        console="https://my.selectel.ru/", pricing="https://selectel.ru/prices/",
        quirks=("virtual-hosted addressing must be enabled per bucket: path-style works for all",
                "parts are kept in a service bucket <bucket>_s3multipartuploads",
                "incomplete uploads may be deleted after six months, without guarantee"),
        sources=("https://docs.selectel.ru/api/cloud-services/aws-sdk" + _READ,
                 "https://docs.selectel.ru/en/s3/buckets/addressing-types/" + _READ,
                 "https://docs.selectel.ru/en/s3/about/limitations/" + _READ,
                 "https://docs.selectel.ru/en/s3/objects/upload-object/" + _READ),
    ),
    dict(
        name="minio", title="MinIO (self-hosted)",
        addressing="path", lifecycle=False, if_none_match_put=True, if_match=True,
        list_uploads_by_prefix=False,
        checksum="sha256-payload",  # a wrong signed payload hash: XAmzContentSHA256Mismatch
        quirks=("the AbortIncompleteMultipartUpload lifecycle action is not supported",
                "ListMultipartUploads needs the exact object name as the prefix",
                "older servers break with botocore >= 1.36's default checksums"),
        sources=("https://docs.min.io/community/minio-object-store/operations/concepts/"
                 "thresholds.html" + _READ,
                 "https://docs.min.io/community/minio-object-store/reference/"
                 "s3-api-compatibility.html" + _READ,
                 "https://github.com/minio/minio/issues/20346" + _READ),
    ),
    dict(
        name="ceph", title="Ceph RGW (self-hosted)",
        addressing="path", copies_by_reference=True, lifecycle=True,
        # If-None-Match: honoured on PUT, ignored on Complete (measured here on RGW 16)
        if_none_match_put=True, if_none_match_complete=False, if_match=True,
        copy_source_if_match=False,
        checksum="sha256-payload",  # measured: a wrong signed payload hash is refused
        measured=_measured(
            "Ceph RGW 16.2.15",
            if_none_match_put="PutObject over an existing key with If-None-Match: * refused, "
                              "412 PreconditionFailed",
            if_none_match_complete="CompleteMultipartUpload over an existing key with "
                                   "If-None-Match: * completed (the header is ignored)",
            if_match="PutObject over an existing key with If-Match of a wrong ETag refused, 412 "
                     "PreconditionFailed",
            copy_source_if_match="UploadPartCopy with x-amz-copy-source-if-match of a wrong "
                                 "ETag copied (the header is ignored)",
            checksum="PutObject with a wrong signed x-amz-content-sha256 refused, 400 "
                     "XAmzContentSHA256Mismatch (a wrong x-amz-checksum-crc32c / -crc64nvme "
                     "stored)",
            copies_by_reference="HEAD answers x-rgw-object-type; CopyObject of 1 GiB took "
                                "0.18 s against 2.43 s for UploadPartCopy (bench/copy_bench.py, "
                                "2026-11-26)"),
        quirks=("ListParts on an aborted upload answers NoSuchKey (mapped to NoSuchUpload)",
                "Complete on an aborted upload answers 500 'completion already in progress' "
                "(mapped to NoSuchUpload)",
                "Complete must list every uploaded part",
                "Complete answers an empty ETag: the object is confirmed by HEAD",
                "If-None-Match on CompleteMultipartUpload is ignored (RGW 16)",
                "copy-source-if-match is ignored: sources are HEADed again before Complete",
                "part numbers 0 and 10,001 accepted: validated client-side",
                "KeyMarker alone repeats the marker key: paging uses KeyMarker + UploadIdMarker",
                "CopyObject shares the source's data: copies up to 5 GiB take one request"),
        sources=("https://docs.ceph.com/en/latest/radosgw/s3/" + _READ,
                 "https://docs.ceph.com/en/latest/radosgw/config-ref/" + _READ,
                 "https://github.com/ceph/s3-tests/pull/663" + _READ,
                 "measured here on Ceph RGW 16.2.15"),
    ),
    dict(
        name="r2", title="Cloudflare R2",
        endpoint="https://{account_id}.r2.cloudflarestorage.com", region="auto",
        addressing="virtual",
        max_part=5 * 1024**3 - 5 * 1024**2, equal_parts=True,
        lifecycle=True, if_none_match_put=True, if_none_match_complete=True, if_match=True,
        console="https://dash.cloudflare.com/?to=/:account/r2/overview",
        pricing="https://developers.cloudflare.com/r2/pricing/",
        quirks=("all parts but the last must be the same size, the last no larger "
                "(InvalidPart at Complete): part_size_policy 'equal'",
                "parts and single uploads are at most 5 GiB - 5 MiB",
                "buckets abort incomplete uploads after 7 days by default",
                "the endpoint names the account: give account_id= or endpoint_url"),
        sources=("https://developers.cloudflare.com/r2/api/s3/api/" + _READ,
                 "https://developers.cloudflare.com/r2/objects/multipart-objects/" + _READ,
                 "https://developers.cloudflare.com/r2/platform/limits/" + _READ,
                 "https://developers.cloudflare.com/r2/buckets/object-lifecycles/" + _READ,
                 "https://developers.cloudflare.com/r2/api/s3/conditional-operations/" + _READ,
                 "https://developers.cloudflare.com/r2/examples/aws/boto3/" + _READ),
    ),
    dict(
        name="gcs", title="Google Cloud Storage (XML API)",
        endpoint="https://storage.googleapis.com", region="auto", addressing="path",
        lifecycle=True, if_none_match_complete=False,
        console="https://console.cloud.google.com/storage/browser",
        pricing="https://cloud.google.com/storage/pricing",
        quirks=("HMAC keys with V4 signatures",
                "XML multipart uploads take no preconditions",
                "objects made by XML multipart have no MD5 hash",
                "incomplete uploads never expire: abort them with GCS's own lifecycle rule",
                "botocore >= 1.36's default checksums break uploads (third-party)"),
        sources=("https://cloud.google.com/storage/docs/interoperability" + _READ,
                 "https://cloud.google.com/storage/docs/multipart-uploads" + _READ,
                 "https://cloud.google.com/storage/docs/xml-api/put-object-multipart" + _READ,
                 "https://github.com/gramps-project/gramps-web-api/pull/758 (third-party)"
                 + _READ),
    ),
    dict(
        name="b2", title="Backblaze B2",
        endpoint="https://s3.{region}.backblazeb2.com", region="us-west-004", addressing="path",
        lifecycle=True,
        console="https://secure.backblaze.com/b2_buckets.htm",
        pricing="https://www.backblaze.com/cloud-storage/pricing",
        quirks=("the account's region is in its endpoint: give yours (region or endpoint_url)",
                "x-amz-checksum-* headers are unsupported",
                "S3 lifecycle rules need a bucket with versioning enabled",
                "the master application key does not work with the S3 API"),
        sources=("https://www.backblaze.com/docs/cloud-storage-call-the-s3-compatible-api"
                 + _READ,
                 "https://www.backblaze.com/docs/cloud-storage-s3-compatible-api" + _READ,
                 "https://www.backblaze.com/docs/"
                 "cloud-storage-create-large-files-with-the-native-api" + _READ,
                 "https://www.backblaze.com/apidocs/s3-put-lifecycle-configuration" + _READ,
                 "https://github.com/lemonsaurus/blackbox/issues/160 (third-party)" + _READ),
    ),
    dict(
        name="wasabi", title="Wasabi",
        endpoint="https://s3.{region}.wasabisys.com", region="us-east-1", addressing="path",
        console="https://console.wasabisys.com", pricing="https://wasabi.com/pricing",
        quirks=("objects deleted within 90 days are billed for 90",
                "botocore >= 1.36's default checksums fail UploadPart (third-party)"),
        sources=("https://docs.wasabi.com/docs/service-urls-for-wasabis-storage-regions"
                 + _READ,
                 "https://docs.wasabi.com/apidocs/lifecycle-policy" + _READ,
                 "https://docs.wasabi.com/docs/service-url-endpoints" + _READ,
                 "https://github.com/EnterpriseDB/barman/issues/1064 (third-party)" + _READ),
    ),
    dict(
        name="digitalocean", title="DigitalOcean Spaces",
        endpoint="https://{region}.digitaloceanspaces.com", region="nyc3", addressing="virtual",
        lifecycle=True,
        console="https://cloud.digitalocean.com/spaces",
        pricing="https://www.digitalocean.com/pricing/spaces-object-storage",
        quirks=("CopyObject and UploadPartCopy work within one region only",),
        sources=("https://docs.digitalocean.com/reference/api/spaces-api/" + _READ,
                 "https://docs.digitalocean.com/products/spaces/reference/s3-compatibility/"
                 + _READ),
    ),
    dict(
        name="moto", title="moto (local test server)",
        addressing="path", lifecycle=False,
        if_none_match_put=True, if_none_match_complete=True, if_match=True,
        copy_source_if_match=False,
        measured=_measured(
            "moto 5.2.5 (5.2.6: the same)",
            addressing="path-style HEAD /bucket/<key> answered 200 (so does virtual-hosted)",
            lifecycle="an abort rule is stored and read back (GetBucketLifecycleConfiguration), "
                      "but moto never applies one: no upload is aborted by it",
            if_none_match_put="PutObject over an existing key with If-None-Match: * refused, "
                              "412 PreconditionFailed",
            if_none_match_complete="CompleteMultipartUpload over an existing key with "
                                   "If-None-Match: * refused, 412 PreconditionFailed",
            if_match="PutObject over an existing key with If-Match of a wrong ETag refused, 412 "
                     "PreconditionFailed",
            copy_source_if_match="UploadPartCopy with x-amz-copy-source-if-match of a wrong "
                                 "ETag copied (the header is ignored)"),
        quirks=("UploadPart and Complete after an abort answer 500, not NoSuchUpload",
                "ListMultipartUploads ignores its paging and Delimiter; plain moto dates every "
                "upload in 2010 (mpu_toolkit's local server gives the real one)",
                "checksums are echoed, never validated",
                "If-Match on CompleteMultipartUpload is ignored, and so is "
                "x-amz-copy-source-if-match on UploadPartCopy",
                "If-None-Match on CompleteMultipartUpload is checked, but not atomically: two "
                "Completes in the same instant can both pass",
                "lifecycle rules are stored, never applied"),
        sources=("measured here with moto 5.2.5",),
    ),
)
