"""The contract kit fails loudly, naming the adapter and the case, when an adapter is wrong."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]


def _run(pytester: pytest.Pytester, declaration: str) -> pytest.RunResult:
    pytester.makepyfile(
        test_broken=textwrap.dedent(
            """
            from dataclasses import replace

            from regbus.adapters.gbdfl import GBDFL
            from regbus.adapters.spec import Into
            from regbus.adapters.vehicles import VEHICLES
            from regbus.adapters.zags import ZAGS
            from regbus.testing import ContractSuite

            get_vehicle, by_owner = VEHICLES.operations
            (get_person,) = GBDFL.operations
            list_acts = ZAGS.operation("list_acts")
            """
        )
        + textwrap.dedent(declaration)
    )
    return pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")


def test_a_broken_mapping_fails_naming_adapter_and_case(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        """
        fields = {**get_vehicle.record.fields, "make": "manufacturer"}
        broken = replace(get_vehicle, record=replace(get_vehicle.record, fields=fields))

        class TestBroken(ContractSuite):
            adapters = {"vehicles": replace(VEHICLES, operations=(broken, by_owner))}
        """,
    )
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*test_declaration_matches_its_description*vehicles*"])
    result.stdout.fnmatch_lines(["*vehicles.get_vehicle*manufacturer*"])


def test_an_operation_the_description_lacks_fails(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        """
        broken = replace(get_person, call="PersonQuery")

        class TestBroken(ContractSuite):
            adapters = {"gbdfl": replace(GBDFL, operations=(broken,))}
        """,
    )
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*FAILED*test_declaration_matches_its_description[[]gbdfl[]]*"])
    result.stdout.fnmatch_lines(["*gbdfl.get_person*PersonQuery*"])


def test_an_operation_the_wsdl_lacks_fails(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        """
        class TestBroken(ContractSuite):
            adapters = {"zags": replace(ZAGS, operations=(replace(list_acts, call="ListActz"),))}
        """,
    )
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*FAILED*test_declaration_matches_its_description[[]zags[]]*"])
    result.stdout.fnmatch_lines(["*zags.list_acts: the WSDL has no operation ListActz*ListActs*"])


def test_an_adapter_that_accepts_another_subject_fails(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        """
        trusting = replace(get_person, echo={})

        class TestBroken(ContractSuite):
            adapters = {"gbdfl": replace(GBDFL, operations=(trusting,))}
        """,
    )
    assert result.ret != 0
    result.stdout.fnmatch_lines(
        ["*FAILED*test_answer_about_another_subject_is_a_fault[[]gbdfl.get_person[]]*"]
    )
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 1 and outcomes["passed"] >= 8
