"""The contract kit for integrators: a pytest plugin (entry point ``pytest11``).

    from regbus.testing import ContractSuite

    class TestLand(ContractSuite):
        registries = ("land",)

Every case runs the adapter against its mock registry; see
:mod:`regbus.mocks.contract` for what is checked.
"""

from regbus.mocks.contract import Case, ContractSuite, pytest_addoption, pytest_generate_tests

__all__ = ["Case", "ContractSuite", "pytest_addoption", "pytest_generate_tests"]
