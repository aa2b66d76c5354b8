"""The shared SOAP pieces: endpoint checks, fault reading, entry points, and
behaviour under cancellation and slowness, for both SOAP adapters."""

from __future__ import annotations

import asyncio
from importlib.metadata import entry_points

import pytest
from lxml import etree
from zeep.exceptions import Fault

from regbus.adapters.base import Adapter, CallContext
from regbus.adapters.declared import declared
from regbus.adapters.errors import RegistryFault, RegistryRejected
from regbus.adapters.gbdfl import GBDFL
from regbus.adapters.http import require_http_url
from regbus.adapters.soap.client import SoapFault, generic_fault_error
from regbus.adapters.zags import ZAGS
from regbus.mocks.faults import parse_fault
from regbus.mocks.server import MockServer

GbdflAdapter = declared(GBDFL)
ZagsAdapter = declared(ZAGS)

CALLS = {"gbdfl": ("get_person", "person"), "zags": ("list_acts", "civil_acts")}


@pytest.mark.parametrize("url", ["https://shep.example/bip-sync/", "http://127.0.0.1:8090/x"])
def test_http_urls_are_accepted(url: str) -> None:
    assert require_http_url(url, "gbdfl") == url


@pytest.mark.parametrize("url", ["", "shep.example", "ftp://shep.example/", "https:///path"])
def test_other_urls_are_refused_by_name(url: str) -> None:
    with pytest.raises(ValueError, match="gbdfl: endpoint url must be an http"):
        require_http_url(url, "gbdfl")


def test_fault_code_prefix_and_subcode_are_dropped() -> None:
    detail = etree.fromstring("<detail><!-- note --><e:Why xmlns:e='urn:e'/></detail>")
    fault = SoapFault.from_zeep(Fault("no", code="soapenv:Client.Authentication", detail=detail))
    assert fault.code == "Client.Authentication"
    assert fault.client_side
    assert fault.detail is not None and etree.QName(fault.detail).localname == "Why"
    assert not SoapFault.from_zeep(Fault("x", code="env:Receiver")).client_side
    assert SoapFault.from_zeep(Fault("x", code="env:Sender")).client_side


def test_generic_fault_rule() -> None:
    refused = generic_fault_error(SoapFault("Client", "bad iin"), "zags", "list_acts")
    assert isinstance(refused, RegistryRejected) and not refused.retryable
    assert "bad iin" not in refused.message and refused.detail == "bad iin"
    failed = generic_fault_error(SoapFault("Server", "db down"), "zags", "list_acts")
    assert isinstance(failed, RegistryFault) and failed.retryable
    assert str(failed) == "zags: the registry answered a SOAP Server fault"
    assert failed.detail == "db down"  # the registry's words: for the log, not the caller


def test_registry_internals_stay_out_of_the_message() -> None:
    oracle = (
        "ORA-00942: table or view does not exist\n"
        'ORA-06512: at "REGISTRY.PKG_PERSON", line 1207 ' + "x" * 5000
    )
    for code in ("Server", "Client"):
        error = generic_fault_error(SoapFault(code, oracle), "zags", "list_acts")
        assert "ORA-" not in error.message and "ORA-" not in str(error)
        assert "ORA-00942" in error.detail
    long_code = generic_fault_error(SoapFault("Server." + "X" * 5000, "boom"), "zags", "list_acts")
    assert len(long_code.message) < 200


def test_entry_points_name_the_adapter_classes() -> None:
    installed = {ep.name: ep for ep in entry_points(group="regbus.adapters")}
    assert installed["gbdfl"].load() is GBDFL
    assert installed["zags"].load() is ZAGS
    assert GbdflAdapter.spec.protocol == "shep-soap"
    assert ZagsAdapter.spec.protocol == "soap"


@pytest.fixture(params=sorted(CALLS))
def soap_adapter(
    request: pytest.FixtureRequest, gbdfl: GbdflAdapter, zags: ZagsAdapter
) -> tuple[str, Adapter]:
    registry = str(request.param)
    return registry, gbdfl if registry == "gbdfl" else zags


async def test_a_cancelled_call_leaves_the_adapter_usable(
    soap_adapter: tuple[str, Adapter], mock_server: MockServer, context: CallContext
) -> None:
    registry, adapter = soap_adapter
    operation, kind = CALLS[registry]
    mock_server.faults.set(registry, parse_fault("hang"))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(adapter.call(operation, {"iin": "850314354052"}, context), 0.2)
    mock_server.faults.set(registry, parse_fault("ok"))
    record = await adapter.call(operation, {"iin": "850314354052"}, context)
    assert record.WhichOneof("kind") == kind


async def test_a_slow_registry_still_answers(
    soap_adapter: tuple[str, Adapter], mock_server: MockServer, context: CallContext
) -> None:
    registry, adapter = soap_adapter
    operation, kind = CALLS[registry]
    mock_server.faults.set(registry, parse_fault("slow=50"))
    record = await adapter.call(operation, {"iin": "850314354052"}, context)
    assert record.WhichOneof("kind") == kind
