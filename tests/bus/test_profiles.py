"""Compose profiles as configuration: what a profile file may say, and what it may not."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from regbus.bus.config import ConfigError, parse_config
from regbus.bus.plugins import discover
from regbus.bus.profiles import ProfileError, built_in_profiles, parse_profiles, profile_problems

CAR = """
[profiles.car]
title = "A car and its papers"
keys = ["plate"]

[[profiles.car.steps]]
name = "vehicle"
registry = "vehicles"
operation = "get_vehicle"
params = { plate = "{plate}" }

[[profiles.car.steps]]
name = "insurance"
registry = "insurance"
operation = "get_policy"
params = { plate = "{vehicle.plate}" }
"""


def profiles(text: str) -> dict[str, Any]:
    return parse_profiles(tomllib.loads(text)["profiles"], "test.toml")


def test_a_profile_reads_its_steps_and_what_they_need() -> None:
    car = profiles(CAR)["car"]
    assert [s.name for s in car.steps] == ["vehicle", "insurance"]
    assert car.needs(car.steps[1]) == ("vehicle",)
    assert car.steps[1].params["plate"][0].path == ("plate",)


def test_the_built_in_profiles_load_with_their_let_names_expanded() -> None:
    built_in = built_in_profiles()
    assert {"roadside_check", "citizen_profile"} <= set(built_in)
    roadside = built_in["roadside_check"]
    licence = next(s for s in roadside.steps if s.name == "licence")
    assert [s.text for s in roadside.step_sources(licence)["iin"]] == [
        "{iin}",
        "{vehicle.owner_iin}",
    ]
    assert roadside.needs(licence) == ("vehicle",)
    insurance = next(s for s in roadside.steps if s.name == "insurance")
    assert roadside.step_sources(insurance)["plate"][0].fans_out


def test_built_in_profiles_name_real_operations_and_parameters() -> None:
    specs = {rid: cls.spec for rid, cls in discover().items()}
    for profile in built_in_profiles().values():
        assert list(profile_problems(profile, specs)) == []


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (("{vehicle.plate}", "{later.plate}"), "later, which is not a step before it"),
        (('keys = ["plate"]', "keys = []"), "keys must list"),
        (('name = "insurance"', 'name = "vehicle"'), "two steps are named vehicle"),
        (("{vehicle.plate}", "{vehicle.Plate!}"), "is not {key} or {step.field}"),
        (('operation = "get_policy"', 'operation = "get_policy"\nretries = 3'), "retries"),
    ],
)
def test_a_broken_profile_is_refused_saying_where(change: tuple[str, str], says: str) -> None:
    with pytest.raises(ProfileError, match=r"profiles\.car") as caught:
        profiles(CAR.replace(*change))
    assert says in str(caught.value)


def test_a_step_cannot_run_once_per_item_of_two_lists() -> None:
    text = (
        CAR
        + """
[[profiles.car.steps]]
name = "both"
registry = "fines"
operation = "list_fines"
params = { iin = "{vehicle.vehicles[].owner_iin}", plate = "{vehicle.vehicles[].plate}" }
"""
    )
    with pytest.raises(ProfileError, match="more than one list"):
        profiles(text)


def test_the_configuration_adds_replaces_and_removes_profiles() -> None:
    data = tomllib.loads(CAR + "\n[profiles.citizen_profile]\nenabled = false\n")
    config = parse_config(data, source="test.toml")
    assert "car" in config.profiles
    assert "roadside_check" in config.profiles
    assert "citizen_profile" not in config.profiles
    with pytest.raises(ConfigError, match=r"profiles\.car"):
        parse_config(tomllib.loads(CAR.replace("{plate}", "{plate")), source="test.toml")


def test_a_step_naming_an_operation_the_registry_lacks_is_a_problem() -> None:
    car = profiles(CAR.replace('operation = "get_policy"', 'operation = "get_polcy"'))["car"]
    specs = {rid: cls.spec for rid, cls in discover().items()}
    (problem,) = profile_problems(car, specs)
    assert "insurance has no operation get_polcy" in problem
