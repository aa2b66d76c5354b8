"""The adapter and its mock pass regbus's contract suite: that is all the testing it needs."""

from regbus.testing import ContractSuite


class TestCadastre(ContractSuite):
    registries = ("cadastre",)
