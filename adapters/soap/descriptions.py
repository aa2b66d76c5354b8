"""The WSDL and XSD files shipped in ``adapters/soap/wsdl/``, and the one safe
way to parse XML that arrives from outside.

The bus loads its service descriptions from the package, never over the
network; the mock registries serve the very same files.
"""

from __future__ import annotations

from importlib import resources

from lxml import etree

PACKAGE = "regbus.adapters.soap"
FOLDER = "wsdl"


class UnsafeXml(ValueError):
    """The document declares a DTD; entities and external references are refused."""


def read(name: str) -> bytes:
    """The bytes of a packaged description file, e.g. ``read("SyncChannel.wsdl")``."""
    return resources.files(PACKAGE).joinpath(FOLDER).joinpath(name).read_bytes()


def secure_parser(*, remove_comments: bool = True) -> etree.XMLParser:
    """An lxml parser that resolves no entities and fetches nothing."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=remove_comments,
    )


def parse(data: bytes) -> etree._Element:
    """Parse untrusted XML; ``etree.XMLSyntaxError`` or ``UnsafeXml`` if refused."""
    root = etree.fromstring(data, parser=secure_parser())
    if root.getroottree().docinfo.doctype:
        raise UnsafeXml("documents with a DOCTYPE are not accepted")
    return root
