"""regbus's own registries pass the same contract suite an integrator runs."""

from importlib.metadata import distribution

from regbus.testing import ContractSuite

BUILT_IN = tuple(
    sorted(ep.name for ep in distribution("regbus").entry_points if ep.group == "regbus.adapters")
)


CATALOGUE = [
    "gbdfl",
    "iin",
    "gbdul",
    "zags",
    "address",
    "realestate",
    "land",
    "vehicles",
    "licences",
    "fines",
    "insurance",
    "inspection",
    "narcology",
    "psychiatry",
    "health",
    "criminal",
    "migration",
    "tax",
    "pension",
    "benefits",
    "kindergarten",
    "mobile",
    "pki",
]


def test_every_registry_of_the_catalogue_is_built_in() -> None:
    assert sorted(BUILT_IN) == sorted(CATALOGUE)


class TestBuiltInRegistries(ContractSuite):
    registries = BUILT_IN
