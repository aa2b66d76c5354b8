"""XML views read what lxml's ElementPath reads, whichever way a path is worked out."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from regbus.adapters.views import JsonView, View, XmlView, finder

NS = "http://example.org/a/b"  # slashes in the namespace, as real ones have
DOCUMENTS = [
    f'<r xmlns="{NS}"><a k="1"><b>x</b><b>y</b></a><a><b>z</b><c> t </c></a><a k="2"><c/></a>'
    '<d.e-f>q</d.e-f><имя>v<b>w</b></имя><!-- a comment --><p:q xmlns:p="urn:p">pp</p:q></r>',
    '<r><a><b>1</b></a><a><b k="v">2</b><b/></a><c>   </c></r>',
    # The first a/b has no c: a/b/c is found further on, as ElementPath finds it.
    f'<r xmlns="{NS}"><a><x/></a><a><b><c>deep</c></b></a><a><b><c>deeper</c></b></a></r>',
]
PATHS = [
    *("", ".", "a", "b", "a/b", "a/c", "a/b/c", "c", "d.e-f", "имя", "имя/b", "zz", "zz/b"),
    *("@k", "a/@k", "a/b/@k", "zz/@k"),
    *("*", "a/*", "..", "a/..", "{urn:p}q", "a[2]", "a[@k]", "a/b[2]", "./a"),
]


def _qualified(namespace: str | None, path: str) -> str:
    """What the views always meant: every plain step in the namespace."""
    if not namespace:
        return path
    return "/".join(
        step if step in (".", "..") or step.startswith(("{", "@")) else f"{{{namespace}}}{step}"
        for step in path.split("/")
    )


def _elementpath_get(element: etree._Element, namespace: str | None, path: str) -> Any:
    if path in ("", "."):
        return element.text
    head, _, last = path.rpartition("/")
    if last.startswith("@"):
        node = element if not head else element.find(_qualified(namespace, head))
        return None if node is None else node.get(last[1:])
    found = element.find(_qualified(namespace, path))
    return None if found is None else (found.text or "")


def _nodes() -> list[tuple[etree._Element, str | None]]:
    found = []
    for document in DOCUMENTS:
        root = etree.fromstring(document)
        for element in [root, *root.iter(etree.Element)]:
            for namespace in (None, "", NS, "urn:other"):
                found.append((element, namespace))
    return found


@pytest.mark.parametrize("path", PATHS)
def test_xml_paths_read_what_elementpath_reads(path: str) -> None:
    for element, namespace in _nodes():
        view = XmlView(element, namespace)
        namespace = view.namespace  # None: the element's own
        expected = _elementpath_get(element, namespace, path)
        assert view.get(path) == expected, (element.tag, namespace)
        assert view.has(path) is (expected is not None)
        assert view.text(path) == ("" if expected is None else str(expected).strip())
        if not path.rpartition("/")[2].startswith("@") and path not in ("", "."):
            every = element.findall(_qualified(namespace, path))
            assert [v.element for v in view.all(path)] == every
            assert finder(namespace, path)(element) is element.find(_qualified(namespace, path))


def test_a_view_takes_the_namespace_of_its_element() -> None:
    root = etree.fromstring(DOCUMENTS[0])
    assert XmlView(root).namespace == NS
    assert XmlView(etree.fromstring("<plain/>")).namespace is None
    assert XmlView(root).text("a/b") == "x"
    (item,) = XmlView(root).all("имя")
    assert item.namespace == NS and item.text("b") == "w"


def test_memo_computes_once_per_node() -> None:
    calls: list[View] = []

    def count(view: View) -> int:
        calls.append(view)
        return len(calls)

    first, second = XmlView(etree.fromstring("<a/>")), JsonView({})
    assert [first.memo(count), first.memo(count), second.memo(count)] == [1, 1, 2]
    assert calls == [first, second]
