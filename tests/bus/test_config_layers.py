"""Configuration in layers: files (later ones win key by key), then REGBUS_* variables;
`regbus config show` says where each value came from."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from regbus.bus.cli import _parser, _serve_config
from regbus.bus.config import (
    DEFAULT,
    ConfigError,
    env_value,
    environment_layers,
    layered,
    load_config,
    load_layers,
)

A = """
[server]
grpc_port = 50061
grace = 2.0

[policy.retry]
attempts = 4

[registries.gbdfl]
url = "http://a.example/gbdfl"
[registries.gbdfl.options]
sender_id = "a"
password = "secret-a"
[registries.gbdfl.policy]
timeout = 5.0

[registries.zags]
url = "http://a.example/zags"

[profiles.car]
title = "Car"
keys = ["plate"]
[[profiles.car.steps]]
name = "vehicle"
registry = "vehicles"
operation = "get_vehicle"
params = { plate = "{plate}" }
"""

B = """
[server]
grpc_port = 50052

[registries.gbdfl]
url = "http://b.example/gbdfl"
[registries.gbdfl.policy.breaker]
fail_max = 2

[registries.zags]
enabled = false

[profiles.car]
title = "A car"
keys = ["plate", "vin"]

[profiles.roadside_check]
enabled = false
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text(A, "utf-8")
    b.write_text(B, "utf-8")
    return a, b


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


# merging -------------------------------------------------------------------------------------


def test_later_files_win_key_by_key(files: tuple[Path, Path]) -> None:
    config = load_layers(files, {})
    assert config.server.grpc_port == 50052  # b
    assert config.server.grace == 2.0  # a, untouched by b
    assert config.policy.retry.attempts == 4
    gbdfl = config.registries["gbdfl"]
    assert gbdfl.endpoint.url == "http://b.example/gbdfl"
    assert gbdfl.endpoint.options == {"sender_id": "a", "password": "secret-a"}
    assert gbdfl.policy.timeout == 5.0  # a's registry policy
    assert gbdfl.policy.breaker.fail_max == 2  # b's, merged into a's table
    assert gbdfl.policy.retry.attempts == 4  # [policy] of a
    assert "zags" not in config.registries and "zags" in config.disabled
    assert config.source == f"{files[0]} + {files[1]}"


def test_profiles_merge_and_arrays_are_replaced(files: tuple[Path, Path]) -> None:
    config = load_layers(files, {})
    car = config.profiles["car"]
    assert car.title == "A car"
    assert car.keys == ("plate", "vin")  # b's array replaces a's, not appended
    assert [s.name for s in car.steps] == ["vehicle"]  # a's, b has none
    assert "roadside_check" not in config.profiles  # built in, removed by b
    assert "citizen_profile" in config.profiles


def test_one_file_loads_as_load_config_does(files: tuple[Path, Path]) -> None:
    assert load_layers([files[0]], {}) == load_config(files[0])


def test_no_files_and_no_variables_are_the_defaults() -> None:
    config = load_layers([], {}, source="built-in mock registries")
    assert config.server.grpc_port == 50051 and config.registries == {}
    assert config.source == "built-in mock registries"


def test_a_table_replaces_a_value_and_a_value_a_table(tmp_path: Path) -> None:
    a = write(tmp_path, "a.toml", '[registries.gbdfl]\nurl = "http://a/"\noptions = {x = "1"}\n')
    b = write(tmp_path, "b.toml", "[registries.gbdfl]\noptions = 3\n")
    with pytest.raises(ConfigError, match=r"b\.toml: registries\.gbdfl\.options must be a table"):
        load_layers([a, b], {})


# the environment -----------------------------------------------------------------------------


def test_variables_win_over_every_file(files: tuple[Path, Path]) -> None:
    env = {
        "REGBUS_SERVER__GRPC_PORT": "50099",
        "REGBUS_SERVER__HOST": "0.0.0.0",
        "REGBUS_POLICY__RETRY__ATTEMPTS": "2",
        "REGBUS_POLICY__BREAKER__SLOW_CALL": "inf",
        "REGBUS_REGISTRIES__GBDFL__URL": "https://c.example/gbdfl",
        "REGBUS_REGISTRIES__GBDFL__OPTIONS__SENDER_ID": '"0042"',
        "REGBUS_REGISTRIES__PENSION__URL": "http://pension.example/",
        "REGBUS_TEST_REDIS_URL": "redis://127.0.0.1:6379/0",  # not configuration
        "PATH": "/usr/bin",
    }
    config = load_layers(files, env)
    assert config.server.grpc_port == 50099
    assert config.server.host == "0.0.0.0"
    assert config.policy.retry.attempts == 2
    assert config.policy.breaker.slow_call == math.inf
    gbdfl = config.registries["gbdfl"]
    assert gbdfl.endpoint.url == "https://c.example/gbdfl"
    assert gbdfl.endpoint.options["sender_id"] == "0042"
    assert gbdfl.policy.retry.attempts == 2
    assert config.registries["pension"].endpoint.url == "http://pension.example/"
    assert config.source.endswith(" + 7 REGBUS_* variables")


def test_registry_ids_and_keys_are_lower_cased() -> None:
    (layer,) = environment_layers({"REGBUS_REGISTRIES__GBDFL__Policy__Retry__ATTEMPTS": "1"})
    assert layer.data == {"registries": {"gbdfl": {"policy": {"retry": {"attempts": 1}}}}}
    assert layer.origin == "REGBUS_REGISTRIES__GBDFL__Policy__Retry__ATTEMPTS"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("50052", 50052),
        ("-3", -3),
        ("1_000", 1000),
        ("0.5", 0.5),
        ("inf", math.inf),
        ("true", True),
        ("false", False),
        ("0.0.0.0", "0.0.0.0"),
        ("redis://redis:6379/0", "redis://redis:6379/0"),
        ('"0042"', "0042"),
        ("'true'", "true"),
        ("0042", "0042"),  # no TOML integer has a leading zero
        ("2026-01-01", "2026-01-01"),  # dates stay text
        ("[1, 2]", "[1, 2]"),
        ("1 # comment", "1 # comment"),
        ("1\nx = 2", "1\nx = 2"),
        ("", ""),
        ("centre-01", "centre-01"),
    ],
)
def test_variable_values_are_toml_scalars_or_text(text: str, value: object) -> None:
    parsed = env_value(text)
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("REGBUS_SERVER__GRPC_PRT", "REGBUS_SERVER__GRPC_PRT: unknown key server.grpc_prt (known:"),
        ("REGBUS_SEVER__HOST", "REGBUS_SEVER__HOST: unknown section(s) sever"),
        ("REGBUS_POLICY__RETRY__ATEMPTS", "REGBUS_POLICY__RETRY__ATEMPTS: unknown setting"),
        (
            "REGBUS_REGISTRIES__GBDFL__TIMEOUT",
            "REGBUS_REGISTRIES__GBDFL__TIMEOUT: registries.gbdfl: unknown key(s) timeout",
        ),
        ("REGBUS_PROFILES__CAR__STEP", "REGBUS_PROFILES__CAR__STEP: profiles.car: unknown key"),
        ("REGBUS_SERVER_GRPC_PORT", "REGBUS_SERVER_GRPC_PORT: levels are separated by two"),
        ("REGBUS_SERVER____PORT", "REGBUS_SERVER____PORT: an empty level"),
    ],
)
def test_a_variable_naming_an_unknown_key_is_named(
    files: tuple[Path, Path], name: str, says: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_layers(files, {name: "1"})
    assert says in str(caught.value)


def test_a_variable_with_a_bad_value_is_named(files: tuple[Path, Path]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_layers(files, {"REGBUS_SERVER__GRPC_PORT": "fifty"})
    assert (
        str(caught.value) == "REGBUS_SERVER__GRPC_PORT: server.grpc_port must be int, got 'fifty'"
    )
    with pytest.raises(ConfigError) as caught:
        load_layers(files, {"REGBUS_POLICY__TIMEOUT": "soon"})
    assert str(caught.value).startswith("REGBUS_POLICY__TIMEOUT: policy.timeout must be a number")


# errors name their file ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[server]\ngrpc_prt = 1\n", "c.toml: unknown key server.grpc_prt (known: "),
        ("[sever]\n", "c.toml: unknown section(s) sever"),
        ("[policy.retry]\natempts = 1\n", "c.toml: unknown setting policy.retry.atempts"),
        ("[registries.gbdfl]\ntimeout = 3\n", "c.toml: registries.gbdfl: unknown key(s) timeout"),
        ("[registries.gbdfl.policy]\nfoo = 1\n", "c.toml: registries.gbdfl: unknown setting"),
        ("[profiles.car]\ntitel = 'x'\n", "c.toml: profiles.car: unknown key(s) titel"),
        ("[server]\ngrpc_port = 70000\n", "c.toml: server.grpc_port must be a port"),
    ],
)
def test_an_unknown_key_in_a_later_file_names_that_file(
    files: tuple[Path, Path], tmp_path: Path, text: str, says: str
) -> None:
    c = write(tmp_path, "c.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_layers([*files, c], {})
    assert f"{tmp_path}/{says}" in str(caught.value)


def test_a_problem_of_the_merged_configuration_names_the_files_behind_it(tmp_path: Path) -> None:
    a = write(tmp_path, "a.toml", "[policy.breaker]\nwindow = 5\nmin_calls = 5\n")
    b = write(tmp_path, "b.toml", "[registries.zags.policy]\ntimeout = 2\n")
    c = write(tmp_path, "c.toml", "[policy.breaker]\nwindow = 4\n")
    with pytest.raises(ConfigError) as caught:  # b's registry has no url
        load_layers([a, b], {})
    assert str(caught.value).startswith(f"{b}: registries.zags.url must be an http")
    with pytest.raises(ConfigError) as caught:  # a's min_calls 5 > c's window 4
        load_layers([a, c], {})
    assert str(caught.value).startswith(f"{a}, {c}: policy.breaker.min_calls must be between")


def test_missing_and_broken_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml does not exist"):
        load_layers([tmp_path / "nope.toml"], {})
    broken = write(tmp_path, "broken.toml", "[server\n")
    with pytest.raises(ConfigError, match=r"broken\.toml is not valid TOML"):
        load_layers([broken], {})


# origins -------------------------------------------------------------------------------------


def test_every_value_knows_its_origin_and_what_it_replaced(files: tuple[Path, Path]) -> None:
    a, b = map(str, files)
    env = {"REGBUS_SERVER__GRPC_PORT": "50099"}
    settings = {s.key: s for s in layered(files, env).settings}
    port = settings["server.grpc_port"]
    assert (port.value, port.origin) == (50099, "REGBUS_SERVER__GRPC_PORT")
    assert port.shadowed == ((a, 50061), (b, 50052))
    assert settings["server.host"].origin == DEFAULT
    assert settings["policy.breaker.fail_max"].origin == DEFAULT
    assert settings["policy.retry.attempts"].origin == a
    url = settings["registries.gbdfl.url"]
    assert (url.origin, url.shadowed) == (b, ((a, "http://a.example/gbdfl"),))
    assert settings["registries.gbdfl.policy.breaker.fail_max"].origin == b
    assert settings["profiles.car.keys"].value == ["plate", "vin"]
    keys = list(settings)
    assert (
        keys.index("server.host")
        < keys.index("policy.timeout")
        < keys.index("registries.gbdfl.url")
    )


# regbus config show and regbus serve ----------------------------------------------------------


def regbus(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REGBUS_")}
    return subprocess.run(
        [sys.executable, "-m", "regbus.bus.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**environ, **(env or {})},
    )


def line(out: str, key: str) -> str:
    (found,) = [text for text in out.splitlines() if text.startswith(f"{key} = ")]
    return found


def test_config_show_names_the_winning_file_and_the_shadowed_one(files: tuple[Path, Path]) -> None:
    a, b = files
    result = regbus("config", "show", "--config", str(a), "--config", str(b))
    assert result.returncode == 0, result.stderr
    port = line(result.stdout, "server.grpc_port")
    assert re.fullmatch(rf"server\.grpc_port = 50052 +# {b} \({a} had 50061\)", port), port
    url = line(result.stdout, "registries.gbdfl.url")
    assert url.startswith('registries.gbdfl.url = "http://b.example/gbdfl"')
    assert url.endswith(f'# {b} ({a} had "http://a.example/gbdfl")')
    assert line(result.stdout, "server.grace").endswith(f"# {a}")
    assert line(result.stdout, "server.http_port") == "server.http_port = 8081".ljust(60) + (
        "   # default"
    )
    assert line(result.stdout, "policy.bulkhead.max_wait").endswith("# default")
    assert line(result.stdout, "registries.gbdfl.options.password").startswith(
        'registries.gbdfl.options.password = "***"'
    )
    assert "secret-a" not in result.stdout


def test_config_show_puts_a_variable_over_both_files(files: tuple[Path, Path]) -> None:
    a, b = files
    result = regbus(
        *("config", "show", "--config", str(a), "--config", str(b)),
        env={"REGBUS_SERVER__GRPC_PORT": "50099", "REGBUS_REGISTRIES__GBDFL__URL": "http://c/"},
    )
    assert result.returncode == 0, result.stderr
    port = line(result.stdout, "server.grpc_port")
    assert port.endswith(f"# REGBUS_SERVER__GRPC_PORT ({a} had 50061, {b} had 50052)")
    assert line(result.stdout, "registries.gbdfl.url").endswith(
        f'# REGBUS_REGISTRIES__GBDFL__URL ({a} had "http://a.example/gbdfl",'
        f' {b} had "http://b.example/gbdfl")'
    )


def test_config_show_json(files: tuple[Path, Path]) -> None:
    a, b = files
    result = regbus(
        *("config", "show", "--json", "--config", str(a), "--config", str(b), "--show-secrets"),
        env={"REGBUS_POLICY__RETRY__ATTEMPTS": "2"},
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["files"] == [str(a), str(b)]
    settings = {s["key"]: s for s in body["settings"]}
    assert settings["policy.retry.attempts"] == {
        "key": "policy.retry.attempts",
        "value": 2,
        "origin": "REGBUS_POLICY__RETRY__ATTEMPTS",
        "shadowed": [{"origin": str(a), "value": 4}],
    }
    assert settings["registries.gbdfl.options.password"]["value"] == "secret-a"
    assert settings["server.workers"]["origin"] == "default"


@pytest.mark.parametrize(
    ("text", "env", "says"),
    [
        ("[server]\ngrpc_prt = 1\n", {}, "bad.toml: unknown key server.grpc_prt"),
        ("[server\n", {}, "bad.toml is not valid TOML"),
        ("", {"REGBUS_SERVER__GRPC_PRT": "1"}, "REGBUS_SERVER__GRPC_PRT: unknown key"),
    ],
)
def test_config_show_refuses_a_bad_file_or_key_in_one_line(
    tmp_path: Path, text: str, env: dict[str, str], says: str
) -> None:
    bad = write(tmp_path, "bad.toml", text)
    result = regbus("config", "show", "--config", str(bad), env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and says in result.stderr
    assert result.stderr.startswith("regbus: configuration error: ")
    missing = regbus("config", "show", "--config", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and "nope.toml does not exist" in missing.stderr


def test_serve_layers_its_files_the_environment_and_then_its_options(
    files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = files
    monkeypatch.setenv("REGBUS_SERVER__HTTP_PORT", "9181")
    monkeypatch.setenv("REGBUS_SERVER__GRPC_PORT", "50099")
    args = _parser().parse_args(
        ["serve", "--config", str(a), "--config", str(b), "--grpc-port", "6000"]
    )
    config = _serve_config(args)
    assert config.server.grpc_port == 6000  # the option wins over all
    assert config.server.http_port == 9181  # the variable
    assert config.server.grace == 2.0  # a
    assert config.registries["gbdfl"].endpoint.url == "http://b.example/gbdfl"  # b
    # Without --config: the built-in mocks, and the variables still apply.
    config = _serve_config(_parser().parse_args(["serve"]))
    assert config.server.http_port == 9181
    assert config.source == "built-in mock registries + 2 REGBUS_* variables"


async def test_workers_of_serve_load_every_file_and_the_environment(tmp_path: Path) -> None:
    """``regbus serve --workers 2`` hands each worker every --config; the variables reach
    them too: the bulkhead limit summed over the workers is 2 x the variable's value."""
    a = write(tmp_path, "a.toml", '[registries.gbdfl]\nurl = "http://127.0.0.1:9/gbdfl"\n')
    b = write(tmp_path, "b.toml", '[registries.zags]\nurl = "http://127.0.0.1:9/zags"\n')
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REGBUS_")}
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "regbus.bus.cli", "serve", "--workers", "2"),
        *("--config", str(a), "--config", str(b)),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={
            **environ,
            "TMPDIR": str(tmp_path),
            "REGBUS_SERVER__GRPC_PORT": "0",
            "REGBUS_SERVER__HTTP_PORT": "0",
            "REGBUS_SERVER__GRACE": "0.5",
            "REGBUS_POLICY__BULKHEAD__MAX_CONCURRENT": "7",
        },
    )
    assert process.stderr is not None
    log = ""
    try:
        async with asyncio.timeout(60):
            while "metrics of all workers" not in log:
                text = (await process.stderr.readline()).decode()
                assert text, f"regbus serve stopped:\n{log}"
                log += text
        assert f"regbus {a} + {b} + 4 REGBUS_* variables: 2 workers" in log
        served = re.search(r"serving gRPC on 127\.0\.0\.1:\d+, registries: (.*)", log)
        assert served is not None and served.group(1).split(", ") == ["gbdfl", "zags"]
        match = re.search(r"metrics of all workers http://127\.0\.0\.1:(\d+)/metrics", log)
        assert match is not None
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"http://127.0.0.1:{match.group(1)}/metrics")).text
        limit = re.search(r'^regbus_bulkhead_limit\{registry="gbdfl"\} (\S+)$', metrics, re.M)
        assert limit is not None and float(limit.group(1)) == 2 * 7
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
    assert code == 0
