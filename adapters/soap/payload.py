"""A service's payload schema (an XSD, or a WSDL's inline schema): build request
elements and check answers against it before mapping them.

    person = PayloadSchema("gbdfl.xsd")         # or a Path, or files("pkg") / "x.xsd"
    request = person.build("PersonRequest", iin="850314354052")
    answer = person.check(element, "PersonResponse")   # ValueError if it does not fit
"""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from regbus.adapters.soap import descriptions
from regbus.adapters.soap.catalogue import Catalogue, inline_schema
from regbus.adapters.soap.descriptions import DescriptionSource

XSD = "http://www.w3.org/2001/XMLSchema"


class PayloadSchema:
    """The elements of one target namespace, validated with lxml.

    Imports resolve offline, as for :class:`~regbus.adapters.soap.client.SoapClient`.
    """

    def __init__(self, source: DescriptionSource) -> None:
        catalogue = Catalogue(source)
        name = catalogue.document.name
        parser = descriptions.secure_parser()
        resolver = catalogue.resolver()
        parser.resolvers.add(resolver)
        data = catalogue.load(catalogue.location)
        root = etree.fromstring(data, parser, base_url=catalogue.location)
        if root.tag != f"{{{XSD}}}schema":  # a WSDL: use its inline schema
            data = inline_schema(root, name)
            root = etree.fromstring(data, parser, base_url=catalogue.location)
        self.namespace: str = root.get("targetNamespace", "")
        self._nsmap = {None: self.namespace}
        self._qnames: dict[str, str] = {}
        try:
            self._schema = etree.XMLSchema(root)
        except etree.XMLSchemaParseError as exc:
            if resolver.refused:
                raise resolver.refused[0] from exc
            raise

    def qname(self, local: str) -> str:
        qualified = self._qnames.get(local)
        if qualified is None:
            qualified = f"{{{self.namespace}}}{local}"
            if len(self._qnames) < 1024:  # names come from declarations
                self._qnames[local] = qualified
        return qualified

    def build(self, name: str, **children: str) -> etree._Element:
        """``<name><child>text</child>...</name>``, every element in the namespace."""
        qname = self.qname
        element = etree.Element(qname(name), nsmap=self._nsmap)
        for child, text in children.items():
            etree.SubElement(element, qname(child)).text = text
        return element

    def build_in(self, parent: etree._Element, name: str, children: Mapping[str, str]) -> None:
        """:meth:`build` as the last child of ``parent``, in its document."""
        qname = self.qname
        element = etree.SubElement(parent, qname(name), nsmap=self._nsmap)
        for child, text in children.items():
            etree.SubElement(element, qname(child)).text = text

    def check(self, element: etree._Element, name: str) -> etree._Element:
        """``element`` if it is a valid ``name``; ``ValueError`` saying why not."""
        if element.tag != self.qname(name):
            raise ValueError(f"expected {self.qname(name)}, got {element.tag}")
        if not self._schema.validate(element):
            error = self._schema.error_log.last_error
            raise ValueError(f"{name} does not match its schema: {error.message if error else ''}")
        return element

    def text(self, element: etree._Element, path: str) -> str:
        """Text of a descendant given as ``a/b`` in the schema's namespace; "" if absent."""
        found = element.find("/".join(self.qname(step) for step in path.split("/")))
        return (found.text or "").strip() if found is not None else ""
