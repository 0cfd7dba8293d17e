"""User presets: where they live, how ``provider=`` (and ``MPU_PROVIDER``) finds them, and one
clear error, naming the file, for a broken one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mpu_toolkit import ConfigurationError, MPUFileSystem
from mpu_toolkit._s3 import user_presets
from mpu_toolkit._s3.providers import provider_named


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MPU_CONFIG_DIR", str(tmp_path))
    return tmp_path


def write(config: Path, name: str, text: str) -> Path:
    path = config / "providers" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_config_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MPU_CONFIG_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert user_presets.config_dir() == tmp_path / "xdg" / "mpu_toolkit"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_presets.config_dir() == tmp_path / "home" / ".config" / "mpu_toolkit"
    monkeypatch.setattr(user_presets.sys, "platform", "win32")
    monkeypatch.setenv("APPDATA", str(tmp_path / "roaming"))
    assert user_presets.config_dir() == tmp_path / "roaming" / "mpu_toolkit"
    monkeypatch.setenv("MPU_CONFIG_DIR", str(tmp_path / "mine"))
    assert user_presets.preset_path("x") == tmp_path / "mine" / "providers" / "x.json"


def test_a_user_preset_is_found_by_name_and_by_mpu_provider(
        config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(config, "my-store", json.dumps({"endpoint": "http://127.0.0.1:9", "region": "r1",
                                          "if_none_match_complete": False,
                                          "sources": ["measured"]}))
    found = provider_named("my-store")
    assert (found.endpoint, found.region, found.if_none_match_complete) == (
        "http://127.0.0.1:9", "r1", False)
    assert found.sources == ("measured",) and found.name == "my-store"
    monkeypatch.setenv("MPU_PROVIDER", "my-store")
    fs = MPUFileSystem(key="k", secret="s", skip_instance_cache=True)
    assert fs.provider == found and fs.endpoint_url == "http://127.0.0.1:9"


@pytest.mark.parametrize("text, says", [("{not json", "cannot be read"),
                                        ("[1, 2]", "not a JSON object"),
                                        ('{"endpointt": "x"}', "endpointt")])
def test_a_broken_file_is_one_error_naming_it(config: Path, text: str, says: str) -> None:
    path = write(config, "broken", text)
    with pytest.raises(ConfigurationError, match=says) as caught:
        provider_named("broken")
    assert str(path) in str(caught.value)


def test_an_unknown_name_lists_the_user_presets_and_how_to_make_one(config: Path) -> None:
    write(config, "mine", "{}")
    with pytest.raises(ConfigurationError, match="did you mean 'mine'") as caught:
        provider_named("mime")
    assert "mpu doctor mpu://BUCKET --save NAME" in str(caught.value)


def test_built_in_names_and_odd_names_are_refused(config: Path) -> None:
    with pytest.raises(ConfigurationError, match="built-in"):
        user_presets.write_preset("aws", {})
    with pytest.raises(ConfigurationError, match="preset name"):
        user_presets.write_preset("../escape", {})
    assert not list(config.rglob("*.json"))


def test_a_hand_written_file_of_a_built_in_s_name_does_not_replace_it(config: Path) -> None:
    write(config, "ceph", json.dumps({"if_none_match_complete": True}))
    assert provider_named("ceph").if_none_match_complete is False
