"""A region's Compose profiles come from its own installed package (entry-point group
``regbus.profiles``): over the built-in ones, under the configuration.

The packages here are real as far as ``importlib.metadata`` can tell: a module, its TOML
file and a ``dist-info`` folder on ``sys.path``, laid out as pip does.
"""

from __future__ import annotations

import sys
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from prometheus_client import CollectorRegistry

from regbus.bus.config import Config, ConfigError, layered, parse_config
from regbus.bus.embedded import start_embedded
from regbus.bus.plugins import PluginError, discover
from regbus.bus.profiles import merged_profiles
from regbus.bus.router import Router
from regbus.monitoring.metrics import Metrics
from regbus.v1 import bus_pb2, bus_pb2_grpc
from tests.conftest import CONTEXT, TEST_CONFIG
from tests.mocks.test_mock_plugins import install

ARMAN = "850314354052"  # in the mocks' synthetic population

# A region's checks: one of its own, and its version of a built-in one.
NORTH = """
[profiles.family_check]
title = "A person and their civil acts"
keys = ["iin"]

[[profiles.family_check.steps]]
name = "person"
registry = "gbdfl"
operation = "get_person"
params = { iin = "{iin}" }

[[profiles.family_check.steps]]
name = "acts"
registry = "zags"
operation = "list_acts"
params = { iin = "{iin}" }

[profiles.citizen_profile]
title = "Citizen profile, the northern region's counter"
keys = ["iin"]

[[profiles.citizen_profile.steps]]
name = "person"
registry = "gbdfl"
operation = "get_person"
params = { iin = "{iin}" }
"""

# Another region declaring one of the same names.
SOUTH = """
[profiles.family_check]
keys = ["iin"]

[[profiles.family_check.steps]]
name = "person"
registry = "gbdfl"
operation = "get_person"
params = { iin = "{iin}" }
"""

# A registry no adapter serves.
WEST = """
[profiles.well_check]
keys = ["iin"]

[[profiles.well_check.steps]]
name = "well"
registry = "water_wells"
operation = "list_wells"
params = { owner = "{iin}" }
"""

MODULE = """
from pathlib import Path

PROFILES = Path(__file__).with_name("{module}.toml")
TEXT = "[profiles.x]"
"""


class Site:
    """A folder on ``sys.path`` that packages are installed into, one call each."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.modules: list[str] = []

    def add(self, dist: str, profiles: str, *, target: str = "PROFILES", name: str = "") -> str:
        """Install ``dist`` with ``profiles`` as its TOML file; returns its module's name."""
        module = dist.replace("-", "_")
        # As pip lays it out: the folder's name has the project's name with "_" for "-".
        install(
            self.path,
            module,
            module,
            MODULE.format(module=module),
            f"[regbus.profiles]\n{name or module} = {module}:{target}\n",
        )
        metadata = self.path / f"{module}-0.1.dist-info" / "METADATA"
        metadata.write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
        (self.path / f"{module}.toml").write_text(textwrap.dedent(profiles), "utf-8")
        self.modules.append(module)
        return module


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    installed = Site(tmp_path / "site")
    try:
        yield installed
    finally:
        for module in installed.modules:
            sys.modules.pop(module, None)


# loaded, listed and run -----------------------------------------------------------------------


def test_a_package_adds_profiles_and_replaces_built_in_ones(site: Site) -> None:
    site.add("kz-north", NORTH)
    profiles = Config().profiles
    family = profiles["family_check"]
    assert [(s.registry, s.operation) for s in family.steps] == [
        ("gbdfl", "get_person"),
        ("zags", "list_acts"),
    ]
    assert family.package.startswith("package kz-north (regbus.profiles entry point kz_north")
    assert profiles["citizen_profile"].title == "Citizen profile, the northern region's counter"
    assert profiles["citizen_profile"].package == family.package
    assert profiles["roadside_check"].package == ""  # built in, untouched


async def test_the_bus_lists_and_runs_a_package_profile(site: Site) -> None:
    site.add("kz-north", NORTH)
    config = Config(server=TEST_CONFIG.server, policy=TEST_CONFIG.policy, source="test")
    running = await start_embedded(config, mocks_port=0)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.bus.grpc_port}") as channel:
            stub = bus_pb2_grpc.RegistryBusStub(channel)
            catalogue = await stub.ListRegistries(bus_pb2.ListRegistriesRequest(), timeout=10)
            listed = {p.name: p for p in catalogue.profiles}
            assert [s.name for s in listed["family_check"].steps] == ["person", "acts"]
            assert {"roadside_check", "citizen_profile"} <= set(listed)
            request = bus_pb2.ComposeRequest(
                profile="family_check", params={"iin": ARMAN}, context=CONTEXT
            )
            response = await stub.Compose(request, timeout=10)
    finally:
        await running.stop()
    assert [part.step for part in response.parts] == ["person", "acts"]
    person, acts = response.parts
    assert person.response.record.person.iin == ARMAN
    assert acts.WhichOneof("result") == "response", acts.error
    assert acts.response.record.WhichOneof("kind") == "civil_acts"


# the configuration over the packages ----------------------------------------------------------

REPLACED = """
[profiles.family_check]
title = "Just the person"
keys = ["iin"]

[[profiles.family_check.steps]]
name = "person"
registry = "gbdfl"
operation = "get_person"
params = { iin = "{iin}" }
"""


def test_the_configuration_replaces_or_removes_a_package_profile(site: Site) -> None:
    site.add("kz-north", NORTH)
    replaced = parse_config(tomllib.loads(REPLACED), source="region.toml").profiles
    assert replaced["family_check"].title == "Just the person"
    assert [s.name for s in replaced["family_check"].steps] == ["person"]
    assert replaced["family_check"].package == ""
    removed = parse_config(
        {"profiles": {"family_check": {"enabled": False}}}, source="region.toml"
    ).profiles
    assert "family_check" not in removed
    assert removed["citizen_profile"].title.endswith("northern region's counter")


def test_config_show_names_the_package_a_profile_came_from(site: Site, tmp_path: Path) -> None:
    site.add("kz-north", NORTH)
    path = tmp_path / "region.toml"
    path.write_text(REPLACED.replace("family_check", "own_check"), "utf-8")
    settings = {s.key: s for s in layered([path], {}).settings}
    family = settings["profiles.family_check.steps"]
    assert family.origin.startswith("package kz-north (regbus.profiles entry point kz_north")
    assert [step["registry"] for step in family.value] == ["gbdfl", "zags"]
    assert settings["profiles.family_check.title"].value == "A person and their civil acts"
    assert settings["profiles.roadside_check.keys"].origin == "default"
    assert settings["profiles.own_check.title"].origin == str(path)

    path.write_text(REPLACED, "utf-8")  # the file's own family_check wins: shown as it has it
    settings = {s.key: s for s in layered([path], {}).settings}
    assert settings["profiles.family_check.title"].origin == str(path)
    assert [step["name"] for step in settings["profiles.family_check.steps"].value] == ["person"]


# what a package may not do --------------------------------------------------------------------


def test_two_packages_declaring_one_profile_are_both_named(site: Site) -> None:
    site.add("kz-north", NORTH)
    site.add("kz-south", SOUTH)
    with pytest.raises(PluginError, match="profile family_check is declared by two") as caught:
        Config()
    message = str(caught.value)
    assert "package kz-north (regbus.profiles entry point kz_north = kz_north:PROFILES)" in message
    assert "package kz-south (regbus.profiles entry point kz_south = kz_south:PROFILES)" in message


def test_one_entry_point_name_in_two_packages_is_refused(site: Site) -> None:
    site.add("kz-north", NORTH)
    site.add("kz-south", SOUTH.replace("family_check", "south_check"), name="kz_north")
    with pytest.raises(PluginError, match="two profile sets are installed for name 'kz_north'"):
        merged_profiles({})


def test_a_file_that_is_not_toml_is_named_with_its_entry_point(site: Site) -> None:
    site.add("kz-broken", NORTH.replace('keys = ["iin"]', "keys = [iin"))
    with pytest.raises(PluginError) as caught:
        parse_config({}, source="region.toml")
    message = str(caught.value)
    assert message.startswith(
        "profile set entry point kz_broken = kz_broken:PROFILES of package kz-broken:"
        " kz_broken.toml is not valid TOML"
    )
    assert "line 4" in message


@pytest.mark.parametrize(
    ("profiles", "target", "says"),
    [
        (NORTH.replace('"{iin}"', '"{iin"', 1), "PROFILES", "profiles.family_check.steps[0]"),
        (NORTH.replace("[profiles.", "[profile.", 1), "PROFILES", "[profiles.NAME] tables only"),
        (NORTH, "TEXT", "is a str, not a TOML file"),
        (NORTH, "NOWHERE", "fails to load"),
    ],
)
def test_an_unusable_package_is_named_with_its_entry_point(
    site: Site, profiles: str, target: str, says: str
) -> None:
    site.add("kz-broken", profiles, target=target)
    with pytest.raises(PluginError) as caught:
        merged_profiles({})
    message = str(caught.value)
    assert message.startswith(f"profile set entry point kz_broken = kz_broken:{target} ")
    assert says in message


def test_a_registry_no_adapter_serves_names_profile_package_and_registry(site: Site) -> None:
    site.add("kz-west", WEST)
    with pytest.raises(PluginError) as caught:
        parse_config({}, source="region.toml")
    message = str(caught.value)
    assert message.startswith(
        "profile well_check of package kz-west (regbus.profiles entry point kz_west"
        " = kz_west:PROFILES): step well calls registry 'water_wells', which no installed"
        " adapter serves"
    )
    assert "gbdfl" in message  # what is installed
    # The configuration may remove it (or replace it), and the bus starts.
    config = parse_config({"profiles": {"well_check": {"enabled": False}}}, source="region.toml")
    assert "well_check" not in config.profiles


def test_an_operation_the_registry_lacks_stops_the_router_naming_the_package(site: Site) -> None:
    site.add("kz-north", NORTH.replace('"list_acts"', '"list_actz"'))
    config = Config(policy=TEST_CONFIG.policy, source="region.toml")
    with pytest.raises(ConfigError) as caught:
        Router(config, discover(), Metrics(CollectorRegistry()))
    message = str(caught.value)
    assert message.startswith("region.toml: profile family_check of package kz-north (regbus")
    assert "step acts: zags has no operation list_actz" in message
