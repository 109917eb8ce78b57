from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from townsquare.lib.config import ConfigError, env_bool, env_int, env_list, env_path


def test_it_reads_typed_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_FLAG", "Yes")
    monkeypatch.setenv("TS_NUMBER", "42")
    monkeypatch.setenv("TS_HOSTS", "a.example, b.example ,")
    monkeypatch.setenv("TS_DIR", "~/data")
    assert env_bool("TS_FLAG") is True
    assert env_int("TS_NUMBER", 1, minimum=1) == 42
    assert env_list("TS_HOSTS") == ["a.example", "b.example"]
    assert env_path("TS_DIR", ".") == Path("~/data").expanduser().resolve()
    assert env_int("TS_UNSET", 7) == 7
    assert env_bool("TS_UNSET", True) is True


def test_it_fails_loudly_on_a_bad_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_FLAG", "maybe")
    monkeypatch.setenv("TS_NUMBER", "ten")
    monkeypatch.setenv("TS_SMALL", "0")
    with pytest.raises(ConfigError, match="TS_FLAG='maybe': expected one of true/false"):
        env_bool("TS_FLAG")
    with pytest.raises(ConfigError, match="TS_NUMBER='ten': expected a whole number"):
        env_int("TS_NUMBER", 1)
    with pytest.raises(ConfigError, match="at least 1"):
        env_int("TS_SMALL", 5, minimum=1)


def test_the_cli_names_a_bad_variable_without_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "TOWNSQUARE_DATA_DIR": str(tmp_path), "TOWNSQUARE_DEBUG": "perhaps"}
    townsquare = Path(sys.executable).parent / "townsquare"
    result = subprocess.run([townsquare, "check"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert "TOWNSQUARE_DEBUG='perhaps'" in result.stderr
    assert "Traceback" not in result.stderr


def test_it_keeps_the_generated_secret_key_in_the_data_dir(tmp_path: Path) -> None:
    env = {**os.environ, "TOWNSQUARE_DATA_DIR": str(tmp_path)}
    env.pop("TOWNSQUARE_SECRET_KEY", None)
    townsquare = Path(sys.executable).parent / "townsquare"
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = subprocess.run(
        [townsquare, "shell", "-c", code], env=env, capture_output=True, text=True, check=True
    )
    second = subprocess.run(
        [townsquare, "shell", "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert first.stdout == second.stdout and len(first.stdout.strip()) > 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
