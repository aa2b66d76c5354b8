"""Access rights compiled for the request path: one check per call, a few dict lookups.

    rights = Rights(config.access, specs)          # at start-up; ConfigError names a bad right
    grant = rights.check(context, "narcology", "check_registration")   # or raises
    grant.view, grant.consent                       # what the purpose may see; consent needed

A call passes when its context names an operator and a purpose (and a case number where the
purpose needs one), its client may state that purpose, and the client has the right to the
operation: ``registries`` for ordinary registries, ``restricted`` for those whose declaration
says ``restricted``. Anything else raises ``InvalidContext`` or ``PermissionDenied`` naming
the missing field or right, before any registry is called.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from regbus.adapters.base import CallContext
from regbus.adapters.errors import InvalidContext, PermissionDenied, RegbusError, UnknownOperation
from regbus.adapters.spec import Registry
from regbus.bus.access import ALL, AccessSettings, PurposeSettings
from regbus.bus.minimise import FieldView, field_view, fields_of

log = logging.getLogger("regbus.access")
RESTRICTED = "restricted"


class RightsError(ValueError):
    """A right names something the bus does not have, or the wrong list for it."""


@dataclass(frozen=True)
class Grant:
    """What a permitted call carries on: the fields its purpose may see (None: all),
    whether it needs the person's consent, and whether a case number is required."""

    view: FieldView | None = None
    consent: bool = False
    case_number: bool = False


@dataclass(frozen=True)
class _Client:
    purposes: frozenset[str]
    operations: Mapping[str, frozenset[str]]  # registry -> operations it may call


class Rights:
    """Every client's rights and every purpose's grants, built once."""

    def __init__(
        self,
        access: AccessSettings,
        specs: Mapping[str, Registry],
        installed: Collection[str] = (),
    ) -> None:
        """``specs``: the registries the rights may name; a name among ``installed`` but
        not in ``specs`` (an adapter this router was not given) is passed over, any other
        unknown name is a ``RightsError`` (a misspelt registry must not leave a purpose's
        fields unminimised)."""
        self.access = access
        self._specs = specs
        self._installed = frozenset(installed)
        restricted = {r for r, spec in specs.items() if RESTRICTED in spec.sensitivity}
        self._restricted = frozenset(restricted)
        every = frozenset(access.purposes)
        self._clients: dict[str, _Client] = {}
        for client in access.clients.values():
            where = f"clients.{client.id}"
            ops: dict[str, set[str]] = {}
            for right in client.registries:
                for registry, operation in self._expand(right, f"{where}.registries"):
                    if registry in restricted:
                        if right != ALL:
                            raise RightsError(
                                f"{where}.registries: {registry} is a restricted registry;"
                                f" list it under {where}.restricted instead"
                            )
                        continue
                    ops.setdefault(registry, set()).add(operation)
            for right in client.restricted:
                for registry, operation in self._expand(right, f"{where}.restricted"):
                    if registry not in restricted:
                        if right != ALL:
                            raise RightsError(
                                f"{where}.restricted: {registry} is not a restricted registry;"
                                f" list it under {where}.registries"
                            )
                        continue
                    ops.setdefault(registry, set()).add(operation)
            purposes = every if ALL in client.purposes else frozenset(client.purposes)
            self._clients[client.id] = _Client(purposes, {r: frozenset(o) for r, o in ops.items()})
        needs_consent = self._covered(access.consent, "access.consent")
        self._grants: dict[str, dict[str, dict[str, Grant]]] = {
            name: self._purpose_grants(purpose, needs_consent)
            for name, purpose in access.purposes.items()
        }

    def _expand(self, right: str, where: str) -> list[tuple[str, str]]:
        """The (registry, operation) pairs a right names."""
        if right == ALL:
            return [(r, op.name) for r, spec in self._specs.items() for op in spec.operations]
        registry, _, operation = right.partition(".")
        spec = self._specs.get(registry)
        if spec is None and registry in self._installed:
            return []
        if spec is None:
            known = ", ".join(sorted(self._specs)) or "none"
            raise RightsError(
                f"{where}: no registry {registry!r} is installed (installed: {known})"
            )
        if not operation:
            return [(registry, op.name) for op in spec.operations]
        if spec.operation(operation) is None:
            known = ", ".join(op.name for op in spec.operations)
            raise RightsError(
                f"{where}: registry {registry} has no operation {operation!r} ({known})"
            )
        return [(registry, operation)]

    def _covered(self, rights: Collection[str], where: str) -> set[tuple[str, str]]:
        return {pair for right in rights for pair in self._expand(right, where)}

    def _purpose_grants(
        self, purpose: PurposeSettings, always: set[tuple[str, str]]
    ) -> dict[str, dict[str, Grant]]:
        where = f"purposes.{purpose.name}"
        consent = always | self._covered(purpose.consent, f"{where}.consent")
        for target in purpose.fields:
            if not self._expand(target, f"{where}.fields"):
                continue  # installed, but not on this router
            registry, _, operation = target.partition(".")
            if operation:
                continue
            known = fields_of_registry(self._specs[registry])
            if known is not None:
                lost = [n for n in purpose.fields[target] if n.split(".")[0] not in known | {ALL}]
                if lost:
                    raise RightsError(
                        f"{where}.fields.{registry}: no operation of {registry} has a field"
                        f" {lost[0]!r} (fields: {', '.join(sorted(known))})"
                    )
        plain = Grant(case_number=purpose.case_number)
        grants: dict[str, dict[str, Grant]] = {}
        for registry, spec in self._specs.items():
            by_op = grants[registry] = {}
            for op in spec.operations:
                view = self._view(purpose, spec, op.name, where)
                needs = (registry, op.name) in consent
                if view is None and not needs:
                    by_op[op.name] = plain
                else:
                    by_op[op.name] = Grant(view, needs, purpose.case_number)
        return grants

    def _view(
        self, purpose: PurposeSettings, spec: Registry, operation: str, where: str
    ) -> FieldView | None:
        names = purpose.fields.get(f"{spec.registry}.{operation}")
        if names is None:
            names = purpose.fields.get(spec.registry)
            if names is None:
                return None
            known = fields_of(spec, operation)
            if known is not None:  # a registry's list: the names this operation's record has
                names = tuple(n for n in names if n == ALL or n.split(".")[0] in known)
        try:
            return field_view(spec, operation, names)
        except ValueError as exc:
            raise RightsError(f"{where}.fields: {exc}") from exc

    def check(self, context: CallContext, registry: str, operation: str) -> Grant:
        """The grant of a permitted call; raises ``InvalidContext`` or ``PermissionDenied``."""
        if context.operator_id:
            client = self._clients.get(context.client_id)
            if client is not None and context.purpose in client.purposes:
                ops = client.operations.get(registry)
                if ops is not None and operation in ops:
                    grant = self._grants[context.purpose][registry][operation]
                    if not grant.case_number or context.case_number:
                        return grant
        raise self.refusal(context, registry, operation)

    def check_context(self, context: CallContext) -> None:
        """What a request must carry whatever it calls: an operator and a purpose that is
        declared. ``Compose`` checks it once before its parts."""
        if not context.operator_id:
            raise _missing("operator_id", "the operator (the person at the desk)")
        if not context.purpose:
            raise _missing("purpose", "the purpose (why the data is needed)")
        if context.purpose not in self._grants:
            raise self._unknown_purpose(context)

    def refusal(self, context: CallContext, registry: str, operation: str) -> RegbusError:
        """Why ``check`` refused: the first missing field or right, logged."""
        try:
            self.check_context(context)
            error = self._missing_right(context, registry, operation)
        except RegbusError as exc:
            error = exc
        log.warning(
            "refused: client=%s operator=%s purpose=%r %s.%s: %s: %s (request id %s)",
            context.client_id or "-",
            context.operator_id or "-",
            context.purpose,
            registry,
            operation,
            error.reason,
            error.message,
            context.request_id,
        )
        return error

    def _missing_right(self, context: CallContext, registry: str, operation: str) -> RegbusError:
        client_id, purpose = context.client_id, context.purpose
        client = self._clients.get(client_id)
        if client is None:
            return PermissionDenied(
                f"client {client_id!r} is not declared on this bus",
                reason="UNKNOWN_CLIENT",
                right=f"clients.{client_id}",
                client=client_id,
                registry=registry,
                operation=operation,
            )
        if purpose not in client.purposes:
            may = ", ".join(sorted(client.purposes)) or "none"
            return PermissionDenied(
                f"client {client_id} may not state purpose {purpose!r} (it may state: {may})",
                reason="PURPOSE_NOT_ALLOWED",
                right=f"purposes {purpose}",
                client=client_id,
                registry=registry,
                operation=operation,
            )
        spec = self._specs[registry]
        if spec.operation(operation) is None:
            known = ", ".join(o.name for o in spec.operations)
            return UnknownOperation(
                f"registry {registry!r} has no operation {operation!r} (it has: {known})",
                registry=registry,
                operation=operation,
            )
        ops = client.operations.get(registry, frozenset())
        if operation not in ops:
            if registry in self._restricted:
                return PermissionDenied(
                    f"{registry} is a restricted registry and client {client_id} has no right"
                    f" to {registry}.{operation}",
                    reason="RESTRICTED_REGISTRY",
                    right=f"restricted {registry}.{operation}",
                    client=client_id,
                    registry=registry,
                    operation=operation,
                )
            return PermissionDenied(
                f"client {client_id} has no right to {registry}.{operation}",
                reason="OPERATION_NOT_ALLOWED",
                right=f"registries {registry}.{operation}",
                client=client_id,
                registry=registry,
                operation=operation,
            )
        return InvalidContext(
            f"purpose {purpose} needs a case number (context.case_number)",
            field="context.case_number",
            reason="MISSING_CONTEXT",
            registry=registry,
            operation=operation,
        )

    def _unknown_purpose(self, context: CallContext) -> InvalidContext:
        client = self._clients.get(context.client_id)
        may = ", ".join(sorted(client.purposes)) if client is not None else ""
        return InvalidContext(
            f"purpose {context.purpose!r} is not declared on this bus"
            + (f" (client {context.client_id} may state: {may})" if may else ""),
            field="context.purpose",
            reason="UNKNOWN_PURPOSE",
        )

    @property
    def any_consent(self) -> bool:
        """Whether any call on this bus can need the person's consent."""
        return any(
            g.consent for ops in self._grants.values() for by in ops.values() for g in by.values()
        )

    def may_call(self, client_id: str) -> bool:
        """Whether ``client_id`` is a declared client (``ListRegistries``)."""
        return client_id in self._clients


def _missing(name: str, what: str) -> InvalidContext:
    return InvalidContext(
        f"the request context needs {what}: set context.{name}",
        field=f"context.{name}",
        reason="MISSING_CONTEXT",
    )


def fields_of_registry(spec: Registry) -> set[str] | None:
    """Every top-level field name of any of the registry's records (None: cannot tell)."""
    found: set[str] = set()
    for op in spec.operations:
        names = fields_of(spec, op.name)
        if names is None:
            return None
        found |= names
    return found
