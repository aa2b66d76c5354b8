"""One way to read an answer by paths, whatever its wire format.

    XmlView(element).text("identityDocument/number")   # steps in the element's namespace
    JsonView(body).get("owner.iin")                    # dotted keys
    [v.get("plate") for v in JsonView(body).all("items")]

``get`` returns None for a path the answer lacks; XML values are the element
text (or an attribute, ``@name``), JSON values are what the JSON holds.
"""

from __future__ import annotations

import abc
import functools
from typing import Any

from lxml import etree


class View(abc.ABC):
    """A node of an answer and the paths below it."""

    textual = False  # every value is text (XML), so text may convert to numbers

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


class XmlView(View):
    """An lxml element; unprefixed steps are in the element's own namespace."""

    textual = True

    def __init__(self, element: etree._Element, namespace: str | None = None) -> None:
        self.element = element
        self.namespace = etree.QName(element).namespace if namespace is None else namespace

    def _path(self, path: str) -> str:
        return _qualified(self.namespace, path) if self.namespace else path

    def get(self, path: str) -> Any:
        if path in ("", "."):
            return self.element.text
        head, _, last = path.rpartition("/")
        if last.startswith("@"):
            node = self.element if not head else self.element.find(self._path(head))
            return None if node is None else node.get(last[1:])
        found = self.element.find(self._path(path))
        return None if found is None else (found.text or "")

    def all(self, path: str) -> list[View]:
        return [XmlView(e, self.namespace) for e in self.element.findall(self._path(path))]

    def has(self, path: str) -> bool:
        return self.get(path) is not None


@functools.lru_cache(maxsize=4096)
def _qualified(namespace: str, path: str) -> str:
    """``a/b`` with every plain step in ``namespace``: ``{ns}a/{ns}b``."""
    return "/".join(
        step if step in (".", "..") or step.startswith(("{", "@")) else f"{{{namespace}}}{step}"
        for step in path.split("/")
    )


class JsonView(View):
    """Decoded JSON; paths are dotted keys (``owner.iin``)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def _walk(self, path: str) -> Any:
        node = self.value
        for key in path.split(".") if path not in ("", ".") else ():
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node

    def get(self, path: str) -> Any:
        return self._walk(path)

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
