"""What can go wrong with the audit log.

AuditError            the log cannot be opened, read or written (store, key); says where
AuditUnavailable      a call's entry could not be recorded, so the call is refused
                      (AUDIT_UNAVAILABLE, gRPC UNAVAILABLE, retryable): no answer
                      leaves the bus without its entry
"""

from __future__ import annotations

from regbus.adapters.errors import RegbusError


class AuditError(Exception):
    """The audit log cannot be used; the message says which store or file and why."""


class AuditUnavailable(RegbusError):
    """The call's audit entry was not written; the caller gets no answer."""

    reason = "AUDIT_UNAVAILABLE"
    error_class = "internal"
    retryable = True
