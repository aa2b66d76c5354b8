"""regbus's own registries pass the same contract suite an integrator runs."""

from regbus.testing import ContractSuite


class TestBuiltInRegistries(ContractSuite):
    registries = (
        "gbdfl",
        "zags",
        "vehicles",
        "insurance",
        "licences",
        "fines",
        "inspection",
    )
