"""Provider presets: every record well-formed, and ``provider=`` (or ``$MPU_PROVIDER``, or
``mpu --provider``) filling the client's configuration under the user's own options. Only
configuration is inspected: no request goes to a real provider (the one write goes to the
session's loopback server)."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil
import string
import subprocess
import warnings
from urllib.parse import urlsplit

import pytest

from mpu_toolkit._plan.sizing import GiB, MiB, S3_LIMITS, GrowingPartSizer, PartLimits
from mpu_toolkit._s3.provider_presets import PRESETS
from mpu_toolkit._s3.providers import GENERIC, PROVIDERS, Provider, provider_named
from mpu_toolkit.errors import ConfigurationError
from mpu_toolkit.fs import MPUFileSystem

KEYS = {"key": "AKIDEXAMPLE", "secret": "not-a-real-secret"}
CHECKSUMS = ("request_checksum_calculation", "response_checksum_validation")


@pytest.fixture(autouse=True)
def no_provider_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MPU_PROVIDER", raising=False)


def filesystem(**options: object) -> MPUFileSystem:
    return MPUFileSystem(**KEYS, **options, skip_instance_cache=True)


@pytest.mark.parametrize("provider", list(PROVIDERS.values()), ids=list(PROVIDERS))
def test_every_preset_is_well_formed(provider: Provider) -> None:
    assert PROVIDERS[provider.name] is provider and provider.name == provider.name.lower()
    assert provider.title
    if provider.endpoint is not None:
        assert urlsplit(provider.endpoint).scheme == "https"
        fields = {f for _, f, _, _ in string.Formatter().parse(provider.endpoint) if f}
        assert fields <= {"region", "account_id"}
        assert "region" not in fields or provider.region
    assert provider.addressing in (None, "path", "virtual")
    assert set(CHECKSUMS) <= set(provider.client_config)
    assert {provider.client_config[c] for c in CHECKSUMS} <= {"when_required", "when_supported"}
    assert provider.s3_config == {"payload_signing_enabled": False}
    assert 5 * MiB <= provider.min_part <= provider.max_part <= 5 * GiB
    assert 1 <= provider.max_parts <= 10_000
    GrowingPartSizer(provider.min_part, PartLimits(*provider.part_limits()))
    for link in (provider.console, provider.pricing):
        assert link is None or urlsplit(link).scheme == "https"
    assert provider.sources and all(
        (s.startswith("https://") and s.endswith(" (read 2026-11-30)"))
        or s.startswith("measured here") for s in provider.sources)
    assert isinstance(provider.quirks, tuple) and all(isinstance(q, str) for q in provider.quirks)


@pytest.mark.parametrize("provider", list(PROVIDERS.values()), ids=list(PROVIDERS))
def test_every_measured_value_says_how(provider: Provider) -> None:
    """``measured`` names fields that have a value, each with one line; a preset that has no
    documentation among its sources (moto) has every value it sets measured."""
    names = {f.name for f in dataclasses.fields(Provider)}
    for name, how in provider.measured.items():
        assert name in names - {"name", "title", "quirks", "sources", "measured"}, name
        assert getattr(provider, name) is not None, name
        assert how and "\n" not in how and "measured" in how, how
    record = next(r for r in PRESETS if r["name"] == provider.name)
    if not any(s.startswith("https://") for s in provider.sources):
        unmeasured = set(record) - set(provider.measured) - {
            "name", "title", "quirks", "sources", "measured", "console", "pricing"}
        assert not unmeasured, f"{provider.name}: set, neither documented nor measured"
    if provider.measured:
        assert any(s.startswith("measured here") for s in provider.sources)


def test_the_measured_facts_of_the_test_servers() -> None:
    """What the doctor measured on Ceph RGW 16.2.15 and moto is marked measured, not read."""
    ceph, moto = PROVIDERS["ceph"], PROVIDERS["moto"]
    assert {"if_none_match_put", "if_none_match_complete", "copy_source_if_match", "checksum",
            "copies_by_reference"} <= set(ceph.measured)
    assert "If-None-Match: * completed" in ceph.measured["if_none_match_complete"]
    assert "XAmzContentSHA256Mismatch" in ceph.measured["checksum"]
    assert {"if_none_match_put", "if_none_match_complete", "if_match",
            "copy_source_if_match", "lifecycle"} <= set(moto.measured)
    assert PROVIDERS["aws"].measured == {} and GENERIC.measured == {}


def test_the_required_presets_are_there() -> None:
    assert {"aws", "yandex", "vk", "selectel", "minio", "ceph", "r2", "gcs", "b2", "wasabi",
            "digitalocean", "moto", "s3-compatible"} <= set(PROVIDERS)
    assert GENERIC.name == "s3-compatible"
    unknown = (GENERIC.endpoint, GENERIC.region, GENERIC.addressing, GENERIC.lifecycle,
               GENERIC.if_none_match_put, GENERIC.if_none_match_complete, GENERIC.if_match,
               GENERIC.copies_by_reference)
    assert unknown == (None,) * len(unknown)
    assert PROVIDERS["aws"].client_config["request_checksum_calculation"] == "when_supported"
    ceph = PROVIDERS["ceph"]
    assert (ceph.if_none_match_put, ceph.if_none_match_complete) == (True, False)
    assert any("NoSuchKey" in q for q in ceph.quirks)
    moto = PROVIDERS["moto"]
    assert (moto.if_none_match_put, moto.if_none_match_complete) == (True, True)


def test_no_provider_keeps_the_generic_client() -> None:
    fs = filesystem()
    assert fs.provider is GENERIC
    assert fs.endpoint_url is None and "region_name" not in fs.client_kwargs
    assert fs.config_kwargs["request_checksum_calculation"] == "when_required"
    assert fs.config_kwargs["s3"] == {"payload_signing_enabled": False}
    assert fs.write_options.limits is S3_LIMITS
    assert fs.write_options.part_size_policy == "growing"


def test_yandex_with_only_keys_gets_its_endpoint_region_and_checksum_mode() -> None:
    fs = filesystem(provider="yandex")
    assert fs.provider is PROVIDERS["yandex"]
    fs.connect()  # builds the client; sends nothing
    meta = fs.s3.meta
    assert meta.endpoint_url == "https://storage.yandexcloud.net"
    assert meta.region_name == "ru-central1"
    assert meta.config.request_checksum_calculation == "when_required"
    assert meta.config.response_checksum_validation == "when_required"
    assert meta.config.s3["addressing_style"] == "path"


def test_the_users_values_override_the_preset() -> None:
    user = {"endpoint_url": "http://storage.yandexcloud.net:8080",
            "client_kwargs": {"region_name": "elsewhere-1"},
            "config_kwargs": {"request_checksum_calculation": "when_supported",
                              "s3": {"addressing_style": "virtual"}}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same host: no warning
        fs = filesystem(provider="Yandex", **user)
    assert fs.endpoint_url == user["endpoint_url"]
    assert fs.client_kwargs["region_name"] == "elsewhere-1"
    assert fs.config_kwargs["request_checksum_calculation"] == "when_supported"
    assert fs.config_kwargs["response_checksum_validation"] == "when_required"  # preset's
    assert fs.config_kwargs["s3"]["addressing_style"] == "virtual"
    assert user["client_kwargs"] == {"region_name": "elsewhere-1"}  # not modified


def test_storage_options_fill_only_what_is_missing() -> None:
    user = {"key": "k", "client_kwargs": {"verify": False}}
    filled = PROVIDERS["selectel"].storage_options(user)
    assert filled["endpoint_url"] == "https://s3.ru-1.storage.selcloud.ru"
    assert filled["client_kwargs"] == {"region_name": "ru-1", "verify": False}
    assert filled["config_kwargs"]["s3"]["addressing_style"] == "path"
    assert user == {"key": "k", "client_kwargs": {"verify": False}}
    regional = PROVIDERS["selectel"].storage_options({"client_kwargs": {"region_name": "ru-7"}})
    assert regional["endpoint_url"] == "https://s3.ru-7.storage.selcloud.ru"


def test_an_endpoint_of_the_providers_template_names_the_region() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fs = filesystem(provider="wasabi", endpoint_url="https://s3.eu-central-1.wasabisys.com")
    assert fs.client_kwargs["region_name"] == "eu-central-1"


def test_a_provider_serves_the_hosts_of_its_endpoint_template() -> None:
    assert PROVIDERS["wasabi"].serves("https://s3.eu-central-1.wasabisys.com")
    assert PROVIDERS["yandex"].serves("https://storage.yandexcloud.net/")
    assert not PROVIDERS["yandex"].serves("https://storage.example.net")
    assert not PROVIDERS["ceph"].serves("http://127.0.0.1:7480")  # no endpoint of its own


def test_unknown_provider_names_the_closest() -> None:
    with pytest.raises(ConfigurationError, match=r"'yandx'.*did you mean 'yandex'\?"):
        filesystem(provider="yandx")
    with pytest.raises(ConfigurationError, match="known providers: .*digitalocean"):
        provider_named("nowhere-at-all")
    assert provider_named(" R2 ") is PROVIDERS["r2"]


def test_misspelled_option_names_provider() -> None:
    with pytest.raises(ConfigurationError, match="did you mean 'provider'"):
        filesystem(providr="yandex")


def test_contradicting_endpoint_warns_naming_both_and_is_used() -> None:
    with pytest.warns(UserWarning, match=r"https://s3\.example\.test.*"
                                         r"https://storage\.yandexcloud\.net"):
        fs = filesystem(provider="yandex", endpoint_url="https://s3.example.test")
    assert fs.endpoint_url == "https://s3.example.test"


def test_mpu_provider_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPU_PROVIDER", "yandex")
    assert filesystem().endpoint_url == "https://storage.yandexcloud.net"
    assert filesystem(provider="selectel").provider.name == "selectel"  # the option wins
    monkeypatch.setenv("MPU_PROVIDER", "yandx")
    with pytest.raises(ConfigurationError, match="did you mean 'yandex'"):
        filesystem()


def test_r2_writes_equal_parts_within_its_limits() -> None:
    fs = filesystem(provider="r2", account_id="0123abcd")
    assert fs.endpoint_url == "https://0123abcd.r2.cloudflarestorage.com"
    assert fs.client_kwargs["region_name"] == "auto"
    assert fs.write_options.part_size_policy == "equal"
    assert fs.write_options.limits.max_part == 5 * GiB - 5 * MiB
    assert filesystem(provider="r2", account_id="x",
                      part_size_policy="growing").write_options.part_size_policy == "growing"


def test_account_id_is_required_by_r2_and_refused_elsewhere() -> None:
    with pytest.raises(ConfigurationError, match="account_id"):
        filesystem(provider="r2")
    assert filesystem(provider="r2", endpoint_url="https://acc.r2.cloudflarestorage.com"
                      ).endpoint_url == "https://acc.r2.cloudflarestorage.com"
    with pytest.raises(ConfigurationError, match="account_id is not used"):
        filesystem(provider="yandex", account_id="0123abcd")


@pytest.mark.skipif(shutil.which("mpu") is None, reason="the `mpu` console script is not "
                                                         "installed (pip install -e .)")
@pytest.mark.parametrize("where", ["flag", "environment"])
def test_cli_unknown_provider_is_one_clear_line(where: str, tmp_path: os.PathLike[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MPU_"))}
    env.update(AWS_ACCESS_KEY_ID=KEYS["key"], AWS_SECRET_ACCESS_KEY=KEYS["secret"],
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    args = ["--provider", "yandx"] if where == "flag" else []
    if where == "environment":
        env["MPU_PROVIDER"] = "yandx"
    done = subprocess.run([str(shutil.which("mpu")), *args, "uploads", "mpu://bucket"],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mpu: error: unknown provider 'yandx'")
    assert "did you mean 'yandex'?" in lines[0]


def test_a_preset_writes_to_the_local_server(server, storage_options, bucket, key) -> None:
    """The preset of the session's server (moto, or Ceph RGW in CI) still writes and reads."""
    name = {"moto": "moto", "rgw": "ceph"}.get(server.name, GENERIC.name)
    fs = MPUFileSystem(**storage_options, provider=name, skip_instance_cache=True)
    assert fs.provider.name == name
    data = os.urandom(5 * MiB) + b"tail"
    with fs.open(f"{bucket}/{key}", "wb", part_size="5MiB") as f:
        f.write(data)
    assert fs.cat(f"{bucket}/{key}") == data


def test_the_guide_table_shows_every_preset_as_it_is() -> None:
    guide = pathlib.Path(__file__).resolve().parents[2] / "docs" / "guides" / "providers.md"
    rows = {line.split("|")[1].strip(" `"): line for line in guide.read_text().splitlines()
            if line.startswith("| `")}
    for provider in PROVIDERS.values():
        row = rows[provider.name]
        cells = [c.strip() for c in row.split("|")[1:-1]]
        assert not provider.endpoint or cells[1] == f"`{provider.endpoint}`", row
        assert cells[2] == (f"`{provider.region}`" if provider.region else "—"), row
        assert cells[3] == (provider.addressing or "—"), row
        assert cells[4] == provider.client_config["request_checksum_calculation"], row
        marks = {True: "yes", False: "no", None: "?"}
        assert cells[6] == marks[provider.lifecycle], row
        assert cells[7] == (f"{marks[provider.if_none_match_put]} / "
                            f"{marks[provider.if_none_match_complete]}"), row
        assert cells[9] == (provider.checksum or "md5"), row
