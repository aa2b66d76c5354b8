"""Service descriptions (WSDL, XSD) and the one safe way to parse XML that
arrives from outside.

A description comes from a *source*: a file name in regbus's own
``adapters/soap/wsdl/`` (``"zags.wsdl"``), a :class:`pathlib.Path`, or a
package resource (``importlib.resources.files("kg_land") / "land.wsdl"``).
The bus loads descriptions from disk or packages, never over the network
(:mod:`regbus.adapters.soap.catalogue`); the mock registries serve the very
same files.
"""

from __future__ import annotations

import os
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TypeAlias

from lxml import etree

PACKAGE = "regbus.adapters.soap"
FOLDER = "wsdl"

DescriptionSource: TypeAlias = str | os.PathLike[str] | Traversable


class UnsafeXml(ValueError):
    """The document declares a DTD; entities and external references are refused."""


def packaged_folder() -> Traversable:
    """regbus's own folder of descriptions, ``adapters/soap/wsdl/``."""
    return resources.files(PACKAGE).joinpath(FOLDER)


def locate(source: DescriptionSource) -> Traversable:
    """The file a source names; a plain string is a file in regbus's own folder."""
    if isinstance(source, str):
        return packaged_folder().joinpath(*source.split("/"))
    if isinstance(source, os.PathLike):
        return Path(source)
    return source


def folder_of(source: DescriptionSource) -> Traversable | None:
    """The folder (or package) holding a source, where its relative imports live;
    None for a resource that cannot name its parent."""
    if isinstance(source, str):
        return packaged_folder().joinpath(*source.split("/")[:-1])
    if isinstance(source, os.PathLike):
        return Path(source).parent
    parent = getattr(source, "parent", None)  # pathlib.Path and zipfile.Path have one
    return parent if isinstance(parent, Traversable) else None


def read(source: DescriptionSource) -> bytes:
    """The bytes of a description, e.g. ``read("SyncChannel.wsdl")`` or ``read(path)``."""
    return locate(source).read_bytes()


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
