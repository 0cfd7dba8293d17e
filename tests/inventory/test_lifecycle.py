"""Lifecycle abort rules: set, show, remove — never clobbering the bucket's other rules."""

from __future__ import annotations

import uuid

import pytest

from mpu_toolkit import ConfigurationError, uploads
from mpu_toolkit.inventory.lifecycle import RULE_ID

OTHER_RULE = {"ID": "keep-me-expire-tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
              "Expiration": {"Days": 30}}


@pytest.fixture
def lc_bucket(boto):
    """A bucket of its own: lifecycle configuration is per bucket."""
    name = f"mpu-lc-{uuid.uuid4().hex[:10]}"
    boto.create_bucket(Bucket=name)
    yield name
    boto.delete_bucket(Bucket=name)


def rules_on_server(boto, bucket):
    from botocore.exceptions import ClientError

    try:
        return boto.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "NoSuchLifecycleConfiguration"
        return []


def test_set_show_remove_round_trip_keeps_other_rules(fs, boto, lc_bucket):
    boto.put_bucket_lifecycle_configuration(Bucket=lc_bucket,
                                            LifecycleConfiguration={"Rules": [OTHER_RULE]})
    shown = uploads.set_lifecycle(f"mpu://{lc_bucket}/logs/", 3, fs=fs)
    assert set(shown["id"]) == {RULE_ID, OTHER_RULE["ID"]}
    ours = shown.set_index("id").loc[RULE_ID]
    assert (ours["abort_incomplete_days"], ours["prefix"], ours["status"]) == (3, "logs/",
                                                                                "Enabled")
    on_server = {r["ID"]: r for r in rules_on_server(boto, lc_bucket)}
    assert on_server[RULE_ID]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 3}
    assert on_server[OTHER_RULE["ID"]]["Expiration"] == {"Days": 30}

    uploads.set_lifecycle(f"mpu://{lc_bucket}/logs/", 5, fs=fs)  # replaces, not duplicates
    again = uploads.lifecycle(f"mpu://{lc_bucket}", fs=fs)
    assert list(again["id"]).count(RULE_ID) == 1
    assert again.set_index("id").loc[RULE_ID, "abort_incomplete_days"] == 5

    left = uploads.remove_lifecycle(f"mpu://{lc_bucket}", fs=fs)
    assert list(left["id"]) == [OTHER_RULE["ID"]]
    assert [r["ID"] for r in rules_on_server(boto, lc_bucket)] == [OTHER_RULE["ID"]]


def test_removing_the_last_rule_deletes_the_configuration(fs, boto, lc_bucket):
    uploads.set_lifecycle(f"mpu://{lc_bucket}", 1, fs=fs)
    assert uploads.remove_lifecycle(f"mpu://{lc_bucket}", fs=fs).empty
    assert rules_on_server(boto, lc_bucket) == []
    assert uploads.lifecycle(f"mpu://{lc_bucket}", fs=fs).empty


@pytest.mark.parametrize("days", [0, -1, 1.5, True])
def test_days_must_be_a_positive_whole_number(fs, lc_bucket, days):
    with pytest.raises(ConfigurationError, match="whole number of days"):
        uploads.set_lifecycle(f"mpu://{lc_bucket}", days, fs=fs)


# --- each bucket's cut-off, from the rules frame (pure) ------------------------------------

def abort(rule_id, days, prefix="", status="Enabled"):
    return {"ID": rule_id, "Status": status, "Filter": {"Prefix": prefix},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": days}}


def test_abort_rules_are_the_enabled_ones_that_abort_soonest_first():
    import pandas as pd

    from mpu_toolkit.inventory.lifecycle import abort_rules, rules_frame
    rules = pd.concat([
        rules_frame("b1", [abort("whole", 7), abort("off", 1, status="Disabled"), OTHER_RULE]),
        rules_frame("b2", [abort("tmp", 2, "tmp/")]), rules_frame("b3", [])], ignore_index=True)
    found = abort_rules(rules)
    assert list(zip(found["bucket"], found["prefix"], found["abort_days"])) == [
        ("b2", "tmp/", 2), ("b1", "", 7)]


def test_abort_days_per_upload_is_the_soonest_rule_covering_its_key():
    import pandas as pd

    from mpu_toolkit.inventory.lifecycle import abort_days, rules_frame
    rules = pd.concat([rules_frame("b1", [abort("whole", 7), abort("logs", 2, "logs/")]),
                       rules_frame("b2", [abort("tmp", 3, "tmp/")])], ignore_index=True)
    uploads = pd.DataFrame({"bucket": ["b1", "b1", "b2", "b2", "b3"],
                            "key": ["logs/a", "data/b", "tmp/c", "keep/d", "logs/e"]})
    assert list(abort_days(uploads, rules).astype(object).fillna(0)) == [2, 7, 3, 0, 0]
