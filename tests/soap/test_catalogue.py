"""Service descriptions from a path, a package or a zip load offline: catalogue
URLs and files next to the WSDL are served locally, anything else is refused
by name and never fetched."""

from __future__ import annotations

import re
import socket
import sys
import zipfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from lxml import etree

from regbus.adapters.base import Endpoint
from regbus.adapters.soap.catalogue import SHEP_TYPES, Catalogue, ReferenceRefused
from regbus.adapters.soap.client import SoapClient
from regbus.adapters.soap.descriptions import UnsafeXml
from regbus.adapters.soap.payload import PayloadSchema

ENDPOINT = Endpoint(url="http://land.test/ws")
LAND = "urn:kg:land:v1"


def land_wsdl(*imports: tuple[str, str], doctype: str = "") -> str:
    """A document/literal WSDL whose request is ``lt:ParcelRequest`` and whose
    answer holds an X-Road ``client``, with the given extra ``(namespace, location)`` imports."""
    extra = "".join(f'<xs:import namespace="{ns}" schemaLocation="{loc}"/>' for ns, loc in imports)
    return f"""<?xml version="1.0"?>{doctype}
<wsdl:definitions targetNamespace="{LAND}" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:tns="{LAND}" xmlns:lt="urn:kg:land:types" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd">
  <wsdl:types>
    <xs:schema targetNamespace="{LAND}" elementFormDefault="qualified">
      <xs:import namespace="http://x-road.eu/xsd/xroad.xsd"
          schemaLocation="http://x-road.eu/xsd/xroad.xsd"/>
      <xs:import namespace="urn:kg:land:types" schemaLocation="types/land-types.xsd"/>
      {extra}
      <xs:element name="ParcelResponse"><xs:complexType><xs:sequence>
        <xs:element ref="xrd:client"/><xs:element name="area" type="xs:decimal"/>
      </xs:sequence></xs:complexType></xs:element>
    </xs:schema>
  </wsdl:types>
  <wsdl:message name="in"><wsdl:part name="body" element="lt:ParcelRequest"/></wsdl:message>
  <wsdl:message name="out"><wsdl:part name="body" element="tns:ParcelResponse"/></wsdl:message>
  <wsdl:portType name="P"><wsdl:operation name="GetParcel">
    <wsdl:input message="tns:in"/><wsdl:output message="tns:out"/>
  </wsdl:operation></wsdl:portType>
  <wsdl:binding name="B" type="tns:P">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="GetParcel"><soap:operation soapAction="urn:kg:land/GetParcel"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input>
      <wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="S"><wsdl:port name="Port" binding="tns:B">
    <soap:address location="https://land.example.kg/ws"/></wsdl:port></wsdl:service>
</wsdl:definitions>"""


LAND_TYPES = """<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:kg:land:types"
    elementFormDefault="qualified">
  <xs:element name="ParcelRequest"><xs:complexType><xs:sequence>
    <xs:element name="cadastralNumber" type="xs:string"/><xs:element name="iin" type="xs:string"/>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"""


def write_land(folder: Path, wsdl: str | None = None) -> Path:
    (folder / "types").mkdir(parents=True, exist_ok=True)
    (folder / "types" / "land-types.xsd").write_text(LAND_TYPES)
    path = folder / "land.wsdl"
    path.write_text(wsdl or land_wsdl())
    return path


def check_land(soap: SoapClient) -> None:
    assert soap.soap_operations() == {"GetParcel"}
    assert soap.input_params("GetParcel") == ("cadastralNumber", "iin")
    assert soap.output_element("GetParcel").qname.text == f"{{{LAND}}}ParcelResponse"


@pytest.fixture
def listener() -> Iterator[tuple[str, socket.socket]]:
    """``http://127.0.0.1:PORT``, with the listening socket to prove nobody connected."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", sock


def assert_nobody_connected(sock: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        sock.accept()


async def test_a_wsdl_from_a_path_loads_with_xroad_and_relative_imports(tmp_path: Path) -> None:
    soap = SoapClient(write_land(tmp_path), ENDPOINT, registry="land")
    try:
        check_land(soap)
    finally:
        await soap.aclose()


async def test_a_wsdl_from_a_package_resource_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "kg_land"
    write_land(package)
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "kg_land", raising=False)
    soap = SoapClient(resources.files("kg_land") / "land.wsdl", ENDPOINT, registry="land")
    try:
        check_land(soap)
    finally:
        await soap.aclose()


async def test_a_wsdl_inside_a_zip_loads(tmp_path: Path) -> None:
    archive = tmp_path / "kg_land.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("kg_land/land.wsdl", land_wsdl())
        zf.writestr("kg_land/types/land-types.xsd", LAND_TYPES)
    with zipfile.ZipFile(archive) as zf:
        soap = SoapClient(zipfile.Path(zf, "kg_land/land.wsdl"), ENDPOINT, registry="land")
        try:
            check_land(soap)
        finally:
            await soap.aclose()


def test_payload_schemas_resolve_imports_offline_too(tmp_path: Path) -> None:
    schema = PayloadSchema(write_land(tmp_path))
    answer = etree.fromstring(
        f'<ParcelResponse xmlns="{LAND}"><client xmlns="http://x-road.eu/xsd/xroad.xsd"'
        ' xmlns:i="http://x-road.eu/xsd/identifiers" i:objectType="MEMBER">'
        "<i:xRoadInstance>KG</i:xRoadInstance><i:memberClass>GOV</i:memberClass>"
        "<i:memberCode>70000001</i:memberCode></client><area>12.5</area></ParcelResponse>"
    )
    assert schema.check(answer, "ParcelResponse") is answer
    del answer[0][0]  # no xRoadInstance: xroad.xsd's client type was really applied
    with pytest.raises(ValueError, match="memberClass"):
        schema.check(answer, "ParcelResponse")


async def test_an_unknown_external_import_is_refused_by_name_and_never_fetched(
    tmp_path: Path, listener: tuple[str, socket.socket]
) -> None:
    url, sock = listener
    evil = f"{url}/common.xsd"
    wsdl = write_land(tmp_path, land_wsdl(("urn:evil", evil)))
    with pytest.raises(ReferenceRefused, match=re.escape(f"{evil} is not available offline")):
        SoapClient(wsdl, ENDPOINT, registry="land")
    with pytest.raises(ReferenceRefused, match=re.escape(evil)):
        PayloadSchema(wsdl)
    assert_nobody_connected(sock)


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE wsdl:definitions SYSTEM "{url}/definitions.dtd">',
        '<!DOCTYPE wsdl:definitions [<!ENTITY remote SYSTEM "{url}/secret">]>',
        '<!DOCTYPE wsdl:definitions [<!ENTITY local SYSTEM "file:///etc/passwd">]>',
    ],
)
async def test_a_wsdl_with_a_dtd_or_entity_is_refused(
    tmp_path: Path, listener: tuple[str, socket.socket], doctype: str
) -> None:
    url, sock = listener
    wsdl = write_land(tmp_path, land_wsdl(doctype=doctype.format(url=url)))
    with pytest.raises(UnsafeXml, match="DOCTYPE"):
        SoapClient(wsdl, ENDPOINT, registry="land")
    with pytest.raises(UnsafeXml, match="DOCTYPE"):
        PayloadSchema(wsdl)
    assert_nobody_connected(sock)


async def test_an_imported_schema_with_a_dtd_is_refused(tmp_path: Path) -> None:
    wsdl = write_land(tmp_path)
    types = tmp_path / "types" / "land-types.xsd"
    types.write_text(LAND_TYPES.replace("?>", '?><!DOCTYPE xs:schema [<!ENTITY e "x">]>', 1))
    with pytest.raises(UnsafeXml, match=r"land-types\.xsd"):
        SoapClient(wsdl, ENDPOINT, registry="land")


async def test_relative_imports_stay_inside_the_wsdl_folder(tmp_path: Path) -> None:
    (tmp_path / "secret.xsd").write_text(LAND_TYPES)  # beside the folder, not in it
    folder = tmp_path / "service"
    wsdl = write_land(folder, land_wsdl(("urn:x", "../secret.xsd")))
    with pytest.raises(ReferenceRefused, match=r"secret\.xsd"):
        SoapClient(wsdl, ENDPOINT, registry="land")
    with pytest.raises(ReferenceRefused, match=r"missing\.xsd"):
        SoapClient(write_land(folder, land_wsdl(("urn:x", "missing.xsd"))), ENDPOINT, registry="x")
    for absolute in ("/etc/passwd", "file:///etc/passwd"):
        with pytest.raises(ReferenceRefused):
            Catalogue(wsdl).load(absolute)


def test_the_catalogue_serves_xroad_and_shep_schemas() -> None:
    catalogue = Catalogue("zags.wsdl")
    for url, namespace in (
        ("http://x-road.eu/xsd/xroad.xsd", "http://x-road.eu/xsd/xroad.xsd"),
        ("http://x-road.eu/xsd/identifiers.xsd", "http://x-road.eu/xsd/identifiers"),
        (SHEP_TYPES, SHEP_TYPES),
    ):
        root = etree.fromstring(catalogue.load(url))
        assert root.get("targetNamespace") == namespace
    shep = etree.fromstring(catalogue.load(SHEP_TYPES))
    names = {e.get("name") for e in shep}
    assert {"SendMessage", "SendMessageResponse", "ErrorInfo"} <= names


async def test_a_service_wsdl_can_import_shep_types_by_url(tmp_path: Path) -> None:
    wsdl = tmp_path / "svc.wsdl"
    wsdl.write_text(
        land_wsdl()
        .replace('element="lt:ParcelRequest"', 'element="typ:SendMessage"')
        .replace(
            'xmlns:lt="urn:kg:land:types"',
            f'xmlns:lt="urn:kg:land:types" xmlns:typ="{SHEP_TYPES}"',
        )
        .replace(
            '<xs:import namespace="urn:kg:land:types" schemaLocation="types/land-types.xsd"/>',
            f'<xs:import namespace="{SHEP_TYPES}" schemaLocation="{SHEP_TYPES}"/>',
        )
    )
    soap = SoapClient(wsdl, ENDPOINT, registry="svc")
    try:
        assert soap.input_params("GetParcel") == ("request",)
    finally:
        await soap.aclose()


async def test_packaged_names_still_work() -> None:
    soap = SoapClient("zags.wsdl", ENDPOINT, registry="zags")
    try:
        assert soap.soap_operations() == {"ListActs", "RegisterBirth"}
        assert soap.input_params("ListActs") == ("iin",)
        with pytest.raises(
            ValueError, match=r"no operation 'Nope' \(it has ListActs, RegisterBirth\)"
        ):
            soap.output_element("Nope")
    finally:
        await soap.aclose()
