"""Load a service description and everything it imports without the network.

Real gateways' WSDLs import shared schemas by URL (X-Road's
``http://x-road.eu/xsd/xroad.xsd``) and their own parts by relative path. A
:class:`Catalogue` serves the first from files shipped in regbus and the
second from the description's own folder or package; anything else is refused
with :class:`ReferenceRefused`, naming the reference. zeep reaches it through
:class:`OfflineTransport`, lxml's XML Schema through :meth:`Catalogue.resolver`.

    catalogue = Catalogue(files("kg_land") / "land.wsdl")
    catalogue.location             # "file://regbus-description/land.wsdl", what zeep is given
    catalogue.load("http://x-road.eu/xsd/xroad.xsd")   # bytes of the shipped copy
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx
from lxml import etree
from zeep.transports import AsyncTransport

from regbus.adapters.soap import descriptions
from regbus.adapters.soap.descriptions import DescriptionSource

XSD = "http://www.w3.org/2001/XMLSchema"
# Relative references resolve under this made-up host; the catalogue maps it back
# to the description's folder, and a URL cannot climb above it.
HOST = "regbus-description"
SHEP_TYPES = "http://bip.bee.kz/SyncChannel/v10/Types"


def _packaged(name: str) -> Callable[[], bytes]:
    return lambda: descriptions.read(name)


def inline_schema(wsdl: etree._Element, name: str) -> bytes:
    """The (first) ``wsdl:types`` schema of a WSDL as a document of its own, with
    every namespace prefix it inherits from the WSDL declared on it."""
    schema = wsdl.find(f".//{{{XSD}}}schema")
    if schema is None:
        raise ValueError(f"{name} holds no XML schema")
    alone = etree.Element(schema.tag, dict(schema.attrib), nsmap=schema.nsmap)
    alone.extend(copy.deepcopy(child) for child in schema)
    return bytes(etree.tostring(alone, encoding="UTF-8"))


def _shep_types() -> bytes:
    return inline_schema(descriptions.parse(descriptions.read("SyncChannel.wsdl")), "SyncChannel")


# The schemas real service descriptions import by URL, served from regbus's own copies.
SCHEMAS: Mapping[str, Callable[[], bytes]] = {
    "http://x-road.eu/xsd/xroad.xsd": _packaged("xroad.xsd"),
    "http://x-road.eu/xsd/identifiers.xsd": _packaged("identifiers.xsd"),
    SHEP_TYPES: _shep_types,
    f"{SHEP_TYPES}.xsd": _shep_types,
}


class ReferenceRefused(ValueError):
    """A description refers to a document regbus will not fetch or cannot find."""


class Catalogue:
    """Where one description and the documents it refers to are read from."""

    def __init__(self, source: DescriptionSource) -> None:
        self.document = descriptions.locate(source)
        self.folder = descriptions.folder_of(source)
        self.location = f"file://{HOST}/{quote(self.document.name)}"

    def load(self, url: str) -> bytes:
        """The bytes behind ``url``: a catalogue schema, the description itself, or
        a file next to it. ``ReferenceRefused`` for anything else; ``UnsafeXml``
        for a document that declares a DTD."""
        known = SCHEMAS.get(url)
        data = known() if known is not None else self._local(url)
        try:
            descriptions.parse(data)
        except descriptions.UnsafeXml as exc:
            raise descriptions.UnsafeXml(f"{url}: {exc}") from exc
        except etree.XMLSyntaxError:
            pass  # the parser that asked reports it, with its own context
        return data

    def _local(self, url: str) -> bytes:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc != HOST:
            raise ReferenceRefused(
                f"{url} is not available offline: regbus loads service descriptions without"
                f" the network and knows only {', '.join(SCHEMAS)} and files next to"
                f" {self.document.name}"
            )
        steps = unquote(parts.path).lstrip("/").split("/")
        if steps == [self.document.name]:
            return self.document.read_bytes()
        if self.folder is None or any(step in ("", ".", "..") for step in steps):
            raise ReferenceRefused(f"{'/'.join(steps)}: not a file next to {self.document.name}")
        found = self.folder
        for step in steps:
            found = found.joinpath(step)
        if not found.is_file():
            raise ReferenceRefused(
                f"{'/'.join(steps)} (imported by {self.document.name}) is not in {self.folder}"
            )
        return found.read_bytes()

    def resolver(self) -> CatalogueResolver:
        """An lxml resolver for schemas parsed with ``base_url=self.location``."""
        return CatalogueResolver(self)


class CatalogueResolver(etree.Resolver):  # type: ignore[misc]
    """Answers lxml's import lookups from a catalogue; ``refused`` keeps why not,
    since lxml reports only that a resource failed to load."""

    def __init__(self, catalogue: Catalogue) -> None:
        super().__init__()
        self.catalogue = catalogue
        self.refused: list[ValueError] = []

    def resolve(self, url: str | None, pubid: str | None, context: Any) -> Any:
        try:
            data = self.catalogue.load(url or "")
        except ValueError as exc:
            self.refused.append(exc)
            raise
        return self.resolve_string(data, context, base_url=url)


class OfflineTransport(AsyncTransport):
    """zeep's async transport whose ``load`` reads from a catalogue, never the network.

    Operations still go over ``client``, the registry's HTTP client.
    """

    def __init__(self, catalogue: Catalogue, client: httpx.AsyncClient) -> None:
        unused = httpx.Client()
        try:
            super().__init__(client=client, wsdl_client=unused)  # type: ignore[no-untyped-call]
        finally:
            unused.close()  # descriptions never come over the network
        self.catalogue = catalogue

    def load(self, url: str) -> bytes:
        return self.catalogue.load(url)

    def _load_remote_data(self, url: str) -> bytes:
        raise ReferenceRefused(f"{url}: regbus does not fetch service descriptions")
