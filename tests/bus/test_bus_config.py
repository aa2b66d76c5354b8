from pathlib import Path

import pytest

from regbus.bus.config import Config, ConfigError, load_config, parse_config, with_endpoints


def test_defaults_without_a_file() -> None:
    config = Config()
    assert config.server.grpc_port == 50051
    assert config.policy.breaker.fail_max >= 1


def test_registry_policy_overrides_defaults_field_by_field(tmp_path: Path) -> None:
    path = tmp_path / "regbus.toml"
    path.write_text(
        """
[server]
grpc_port = 6000

[policy]
timeout = 2.0
[policy.breaker]
fail_max = 4

[registries.gbdfl]
url = "http://10.0.0.1/SyncChannel"
[registries.gbdfl.options]
sender_id = "centre-1"
[registries.gbdfl.policy]
timeout = 5
[registries.gbdfl.policy.retry]
attempts = 1

[registries.zags]
url = "https://zags.example/ws"
enabled = false
"""
    )
    config = load_config(path)
    assert config.server.grpc_port == 6000
    gbdfl = config.registries["gbdfl"]
    assert gbdfl.policy.timeout == 5.0
    assert gbdfl.policy.retry.attempts == 1
    assert gbdfl.policy.breaker.fail_max == 4  # from [policy]
    assert gbdfl.endpoint.options["sender_id"] == "centre-1"
    assert "zags" not in config.registries


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[server]\ngrpc_prt = 1\n", "grpc_prt"),
        ("[server]\ngrpc_port = 70000\n", "grpc_port"),
        ("[policy]\ntimeout = -1\n", "timeout"),
        ("[policy.retry]\nattempts = 1.5\n", "attempts"),
        ('[registries.gbdfl]\nurl = "ftp://x"\n', "url"),
        ('[registries.gbdfl]\nurl = "http://x"\ntimeout = 3\n', "timeout"),
        ('[registries.gbdfl]\nurl = "http://x"\n[registries.gbdfl.policy]\nfoo = 1\n', "foo"),
        ("[sever]\n", "sever"),
        ('[server]\nbreaker_store = "memcached://x"\n', "breaker_store"),
        ("[server]\nmax_concurrent_rpcs = 0\n", "max_concurrent_rpcs"),
        ("[policy.breaker]\nfailure_rate = 1.5\n", "failure_rate"),
        ("[policy.breaker]\nmin_calls = 50\n", "min_calls"),
        ("[policy.bulkhead]\nclient_share = 0\n", "client_share"),
        ("[policy.retry]\nbudget_ratio = 2\n", "budget_ratio"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, text: str, names: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert names in str(caught.value)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)


def test_with_endpoints_keeps_configured_registries() -> None:
    config = parse_config({"registries": {"gbdfl": {"url": "http://real/gbdfl"}}})
    merged = with_endpoints(config, {"gbdfl": "http://mock/gbdfl", "zags": "http://mock/zags"})
    assert merged.registries["gbdfl"].endpoint.url == "http://real/gbdfl"
    assert merged.registries["zags"].endpoint.url == "http://mock/zags"
