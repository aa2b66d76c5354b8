"""One way to read an answer by paths, whatever its wire format.

    XmlView(element).text("identityDocument/number")   # steps in the element's namespace
    JsonView(body).get("owner.iin")                    # dotted keys
    [v.get("plate") for v in JsonView(body).all("items")]

``get`` returns None for a path the answer lacks; XML values are the element
text (or an attribute, ``@name``), JSON values are what the JSON holds.

XML paths are worked out once per namespace and path: a path of plain child
steps (``a/b``) walks ``iterchildren`` exactly as lxml's ElementPath does for
it, anything else (``*``, ``..``, predicates) goes to ``find``/``findall``.
"""

from __future__ import annotations

import abc
import functools
import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from lxml import etree

V = TypeVar("V", bound="View")
T = TypeVar("T")


class View(abc.ABC):
    """A node of an answer and the paths below it."""

    textual = False  # every value is text (XML), so text may convert to numbers
    _memo: dict[Any, Any] | None = None

    @abc.abstractmethod
    def get(self, path: str) -> Any:
        """The value at ``path``, or None."""

    @abc.abstractmethod
    def all(self, path: str) -> list[View]:
        """Every node at ``path`` (a repeated element, a JSON list)."""

    @abc.abstractmethod
    def has(self, path: str) -> bool:
        """Whether ``path`` leads anywhere in this answer."""

    def text(self, path: str) -> str:
        """The value at ``path`` as text, "" when absent."""
        value = self.get(path)
        return "" if value is None else str(value).strip()

    def memo(self: V, compute: Callable[[V], T]) -> T:
        """``compute(self)``, worked out once for this node: for computed sources
        of one record that read the same thing (``adapters/zags.py``)."""
        memos = self._memo
        if memos is None:
            memos = self._memo = {}
        elif compute in memos:
            found: T = memos[compute]
            return found
        value = memos[compute] = compute(self)
        return value


# An element, or None: what a compiled XML path finds under an element.
_Find = Callable[[etree._Element], Any]


class XmlView(View):
    """An lxml element; unprefixed steps are in the element's own namespace."""

    textual = True
    # The first child element of each tag, gathered in one pass the first time a path of
    # one plain step is read: records read most of an element's children.
    _children: dict[str, etree._Element] | None = None

    def __init__(self, element: etree._Element, namespace: str | None = None) -> None:
        self.element = element
        self.namespace = namespace_of(element) if namespace is None else namespace

    def get(self, path: str) -> Any:
        key = (self.namespace, path)
        tag = _CHILD_TAGS.get(key)
        if tag is None:
            tag = _cache(_CHILD_TAGS, key, _child_tag(self.namespace, path))
        if tag:  # one plain step: the first child of that tag, as iterchildren finds it
            children = self._children
            if children is None:
                children = self._children = first_children(self.element)
            found = children.get(tag)
            return None if found is None else (found.text or "")
        reader = _READERS.get(key)
        if reader is None:
            reader = _cache(_READERS, key, _reader(self.namespace, path))
        return reader(self.element)

    def text(self, path: str) -> str:
        value = self.get(path)
        return "" if value is None else str(value).strip()

    def all(self, path: str) -> list[View]:
        namespace = self.namespace
        select = _SELECTORS.get((namespace, path))
        if select is None:
            select = _cache(_SELECTORS, (namespace, path), _selector(namespace, path))
        return [XmlView(e, namespace) for e in select(self.element)]

    def has(self, path: str) -> bool:
        return self.get(path) is not None


def namespace_of(element: etree._Element) -> str | None:
    """The namespace of an element's tag (``etree.QName(element).namespace``)."""
    tag = element.tag
    if isinstance(tag, str):
        if tag[:1] != "{":
            return None
        return tag[1 : tag.index("}")]
    namespace: str | None = etree.QName(element).namespace
    return namespace


@functools.lru_cache(maxsize=4096)
def _qualified(namespace: str, path: str) -> str:
    """``a/b`` with every plain step in ``namespace``: ``{ns}a/{ns}b``."""
    return "/".join(
        step if step in (".", "..") or step.startswith(("{", "@")) else f"{{{namespace}}}{step}"
        for step in path.split("/")
    )


# A step ElementPath reads as one child tag: a plain XML name (no prefix, index,
# wildcard, attribute or predicate).
_PLAIN = re.compile(r"[^\W\d][\w.\-]*")
_CACHE_LIMIT = 4096
_READERS: dict[tuple[str | None, str], Callable[[etree._Element], Any]] = {}
_SELECTORS: dict[tuple[str | None, str], Callable[[etree._Element], Any]] = {}


# (namespace, path) -> the child tag a path of one plain step reads; "" for other paths.
_CHILD_TAGS: dict[tuple[str | None, str], str] = {}


def _child_tag(namespace: str | None, path: str) -> str:
    tags = child_tags(namespace, path) if path not in ("", ".") else None
    return tags[0] if tags is not None and len(tags) == 1 else ""


def first_children(element: etree._Element) -> dict[str, etree._Element]:
    """The first child element of each tag (what ``next(element.iterchildren(tag))``
    finds), in one pass over the children."""
    found: dict[str, etree._Element] = {}
    for child in element:
        tag = child.tag
        if type(tag) is str and tag not in found:  # comments and PIs have no str tag
            found[tag] = child
    return found


def _cache(cache: dict[Any, T], key: Any, value: T) -> T:
    if len(cache) >= _CACHE_LIMIT:  # paths come from declarations; this only bounds abuse
        cache.clear()
    cache[key] = value
    return value


def child_tags(namespace: str | None, path: str) -> tuple[str, ...] | None:
    """The child tags ``path`` steps through (each plain step in ``namespace``),
    or None when it is not a path of plain child steps."""
    steps = path.split("/")
    if not all(_PLAIN.fullmatch(step) for step in steps):
        return None
    return tuple(f"{{{namespace}}}{step}" for step in steps) if namespace else tuple(steps)


def finder(namespace: str | None, path: str) -> _Find:
    """``lambda element: element.find(path)`` with ``path``'s plain steps in
    ``namespace``, worked out once."""
    tags = child_tags(namespace, path)
    if tags is None:
        qualified = _qualified(namespace, path) if namespace else path
        return lambda element: element.find(qualified)
    if len(tags) == 1:
        (tag,) = tags
        return lambda element: next(element.iterchildren(tag), None)

    def first(element: etree._Element) -> Any:
        """The first element at ``tags`` below ``element`` in document order, as
        ElementPath finds it: straight down the first child of each step when that
        gets there (the usual answer), else by a search of every branch."""
        node = element
        for tag in tags:
            node = next(node.iterchildren(tag), None)
            if node is None:
                return _search(element, tags, 0)
        return node

    return first


def _search(element: etree._Element, tags: tuple[str, ...], at: int) -> Any:
    if at == len(tags) - 1:
        return next(element.iterchildren(tags[at]), None)
    for child in element.iterchildren(tags[at]):
        found = _search(child, tags, at + 1)
        if found is not None:
            return found
    return None


def _every(element: etree._Element, tags: tuple[str, ...]) -> Iterator[etree._Element]:
    nodes: Iterator[etree._Element] = element.iterchildren(tags[0])
    for tag in tags[1:]:
        nodes = _children(nodes, tag)
    return nodes


def _children(nodes: Iterator[etree._Element], tag: str) -> Iterator[etree._Element]:
    for node in nodes:
        yield from node.iterchildren(tag)


def _own_text(element: etree._Element) -> Any:
    return element.text


def _reader(namespace: str | None, path: str) -> Callable[[etree._Element], Any]:
    """What ``XmlView.get(path)`` reads from an element."""
    if path in ("", "."):
        return _own_text
    head, _, last = path.rpartition("/")
    if last.startswith("@"):
        name = last[1:]
        if not head:
            return lambda element: element.get(name)
        find_head = finder(namespace, head)

        def attribute(element: etree._Element) -> Any:
            node = find_head(element)
            return None if node is None else node.get(name)

        return attribute
    tags = child_tags(namespace, path)
    if tags is not None and len(tags) == 1:  # the usual path: one child
        (tag,) = tags

        def child_text(element: etree._Element) -> Any:
            for found in element.iterchildren(tag):
                return found.text or ""
            return None

        return child_text
    find = finder(namespace, path)

    def text(element: etree._Element) -> Any:
        found = find(element)
        return None if found is None else (found.text or "")

    return text


def _selector(namespace: str | None, path: str) -> Callable[[etree._Element], Any]:
    """What ``XmlView.all(path)`` iterates under an element."""
    tags = child_tags(namespace, path)
    if tags is None:
        qualified = _qualified(namespace, path) if namespace else path
        return lambda element: element.findall(qualified)
    if len(tags) == 1:
        (tag,) = tags
        return lambda element: element.iterchildren(tag)
    return lambda element: _every(element, tags)


# A dotted path's keys, worked out once per path.
_KEYS: dict[str, tuple[str, ...]] = {}


class JsonView(View):
    """Decoded JSON; paths are dotted keys (``owner.iin``)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def get(self, path: str) -> Any:
        keys = _KEYS.get(path)
        if keys is None:
            keys = _cache(_KEYS, path, tuple(path.split(".")) if path not in ("", ".") else ())
        node = self.value
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node

    _walk = get

    def all(self, path: str) -> list[View]:
        found = self._walk(path)
        if found is None:
            return []
        if isinstance(found, dict):  # one object is one node
            return [JsonView(found)]
        if not isinstance(found, list):
            raise ValueError(f"{path} is neither a list nor an object")
        return [JsonView(item) for item in found]

    def has(self, path: str) -> bool:
        return self._walk(path) is not None
