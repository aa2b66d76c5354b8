"""The configuration the README shows is one the bus accepts, with the values it says."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from regbus.bus.config import parse_config

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_configuration_example_loads() -> None:
    text = README.read_text("utf-8")
    section = text.split("## Configuration", 1)[1]
    block = re.search(r"```toml\n(.*?)```", section, re.S)
    assert block is not None, "no TOML example under ## Configuration"
    config = parse_config(tomllib.loads(block.group(1)), source="README")
    gbdfl = config.registries["gbdfl"]
    assert gbdfl.policy.timeout == 5.0 and gbdfl.policy.breaker.fail_max == 3
    assert config.policy.breaker.half_open_permits == 3
    assert config.policy.bulkhead.client_share == 0.5
    assert gbdfl.endpoint.max_answer_bytes == 4 * 1024 * 1024


def test_the_readme_profile_example_loads_and_names_real_operations() -> None:
    from regbus.bus.plugins import discover
    from regbus.bus.profiles import profile_problems

    section = README.read_text("utf-8").split("### Compose profiles", 1)[1]
    block = re.search(r"```toml\n(.*?)```", section, re.S)
    assert block is not None, "no TOML example under ### Compose profiles"
    config = parse_config(tomllib.loads(block.group(1)), source="README")
    car = config.profiles["car_papers"]
    assert [s.name for s in car.steps] == ["vehicle", "owner", "insurance"]
    assert car.needs(car.steps[1]) == ("vehicle",)
    specs = {rid: cls.spec for rid, cls in discover().items()}
    assert list(profile_problems(car, specs)) == []
