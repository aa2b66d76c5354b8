"""The person's consent, for the calls a purpose (or ``[access] consent``) marks as needing it.

A caller proves it in the call's metadata, one of:

    x-regbus-consent-code: CODE_ID:CODE   a one-time code: the caller had it texted to the person
                                          (mobile.send_code iin=... gives CODE_ID) and the person
                                          read it out; the bus checks it with mobile.verify_code,
                                          once per call (a verified code is spent)
    x-regbus-consent-token: JWT           a consent token signed by a consent service whose keys
                                          are [access] consent_jwks_file: ``sub`` the person's
                                          IIN, ``exp``; ``iss`` when consent_issuer is set;
                                          ``purpose`` and ``scope`` (registry or
                                          registry.operation names), when present, must cover
                                          the call

The person who consented must be the call's subject: one of its parameters is their IIN.
Without a proof, or with one that does not hold, the call is ``ConsentRequired``
(FAILED_PRECONDITION) saying what is missing and how to get it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from regbus.adapters.base import CallContext
from regbus.adapters.errors import (
    ConsentRequired,
    InvalidRequest,
    RegbusError,
    RegistryAnswer,
    SubjectNotFound,
)
from regbus.bus.access import AccessSettings
from regbus.bus.config import ConfigError
from regbus.bus.tokens import KeySet, TokenError
from regbus.v1 import records_pb2

CODE_HEADER = "x-regbus-consent-code"
TOKEN_HEADER = "x-regbus-consent-token"
MOBILE = "mobile"

# Checks a one-time code: (code_id, code, context, budget) -> the mobile registry's record.
VerifyCode = Callable[[str, str, CallContext, "float | None"], Awaitable[records_pb2.Record]]


@dataclass(eq=False)
class Proof:
    """The consent a call carries, from its metadata. A code is checked once per call,
    whatever number of Compose parts need it."""

    code: str = ""  # CODE_ID:CODE
    token: str = ""
    _checked: asyncio.Future[str] | None = field(default=None, repr=False)


class Consent:
    """Checks a call's consent; built once, at start-up."""

    def __init__(self, access: AccessSettings, verify_code: VerifyCode | None) -> None:
        self._verify_code = verify_code
        self._issuer = access.consent_issuer
        self._keys: KeySet | None = None
        if access.consent_jwks_file:
            try:
                self._keys = KeySet.from_file(Path(access.consent_jwks_file))
            except ValueError as exc:
                raise ConfigError(f"access.consent_jwks_file: {exc}") from exc

    @property
    def ways(self) -> list[str]:
        """The proofs this bus can check, for messages and the start-up log."""
        ways = []
        if self._verify_code is not None:
            ways.append(f"a one-time code ({CODE_HEADER}: CODE_ID:CODE)")
        if self._keys is not None:
            ways.append(f"a signed consent token ({TOKEN_HEADER})")
        return ways

    async def require(
        self,
        context: CallContext,
        registry: str,
        operation: str,
        params: Mapping[str, str],
        budget: float | None,
    ) -> None:
        """Return when the call's subject has consented; raise ``ConsentRequired`` if not."""
        proof = context.consent
        where = f"{registry}.{operation} with purpose {context.purpose}"
        subjects = set(params.values())
        if isinstance(proof, Proof) and proof.token:
            person = self._token_person(proof.token, context, registry, operation)
        elif isinstance(proof, Proof) and proof.code:
            person = await self._code_person(proof, context, budget, registry, operation)
        else:
            raise ConsentRequired(
                f"{where} needs the person's consent: {self._how(params)}",
                registry=registry,
                operation=operation,
            )
        if person not in subjects:
            raise ConsentRequired(
                f"the consent is the person {person}'s, who is not the subject of {where}",
                registry=registry,
                operation=operation,
            )

    def _how(self, params: Mapping[str, str]) -> str:
        ways = self.ways
        if not ways:
            return (
                "this bus can check none (no mobile registry, no [access] consent_jwks_file);"
                " ask its operators"
            )
        text = " or ".join(f"send {w}" for w in ways)
        if self._verify_code is not None:
            iin = next(iter(params.values()), "IIN")
            text += f"; a code is texted by {MOBILE}.send_code iin={iin} idempotency_key=NEW-KEY"
        return text

    def _token_person(self, token: str, context: CallContext, registry: str, operation: str) -> str:
        if self._keys is None:
            raise ConsentRequired(
                "this bus checks no consent tokens (no [access] consent_jwks_file); send"
                f" {CODE_HEADER} instead",
                registry=registry,
                operation=operation,
            )
        try:
            claims = self._keys.verify(token, issuer=self._issuer)
        except TokenError as exc:
            raise ConsentRequired(
                f"consent token refused: {exc}", registry=registry, operation=operation
            ) from None
        purpose = claims.get("purpose")
        if purpose is not None and purpose != context.purpose:
            raise ConsentRequired(
                f"the consent token is for purpose {purpose!r}, not {context.purpose!r}",
                registry=registry,
                operation=operation,
            )
        scope = claims.get("scope")
        if scope is not None:
            names = scope.split() if isinstance(scope, str) else scope
            if not isinstance(names, list) or not {registry, f"{registry}.{operation}"} & set(
                names
            ):
                raise ConsentRequired(
                    f"the consent token's scope does not cover {registry}.{operation}",
                    registry=registry,
                    operation=operation,
                )
        person = claims.get("sub")
        if not isinstance(person, str) or not person:
            raise ConsentRequired(
                "the consent token names no person (sub)", registry=registry, operation=operation
            )
        return person

    async def _code_person(
        self,
        proof: Proof,
        context: CallContext,
        budget: float | None,
        registry: str,
        operation: str,
    ) -> str:
        if proof._checked is None:
            proof._checked = asyncio.ensure_future(self._check_code(proof.code, context, budget))
        try:
            return await asyncio.shield(proof._checked)
        except ConsentRequired as exc:
            raise ConsentRequired(
                exc.message, registry=registry, operation=operation, retryable=exc.retryable
            ) from None

    async def _check_code(self, text: str, context: CallContext, budget: float | None) -> str:
        code_id, sep, code = text.partition(":")
        if not sep or not code_id or not code:
            raise ConsentRequired(f"{CODE_HEADER} must be CODE_ID:CODE")
        if self._verify_code is None:
            raise ConsentRequired(
                f"this bus cannot check one-time codes (no {MOBILE} registry); send"
                f" {TOKEN_HEADER} instead"
            )
        try:
            record = await self._verify_code(code_id.strip(), code.strip(), context, budget)
        except InvalidRequest as exc:
            raise ConsentRequired(f"the consent code is malformed: {exc.message}") from None
        except SubjectNotFound:
            raise ConsentRequired(f"no consent code {code_id} was sent; send a new one") from None
        except RegistryAnswer as exc:  # spent, expired, or no phone
            raise ConsentRequired(
                f"the consent code cannot be used ({exc.message}); send a new one"
            ) from None
        except RegbusError as exc:
            raise ConsentRequired(
                f"the consent code cannot be checked now: {MOBILE}: {exc.message}",
                retryable=exc.retryable,
            ) from None
        check = record.code_check
        if not check.verified:
            left = check.attempts_left
            raise ConsentRequired(
                f"the consent code is wrong ({left} attempt{'' if left == 1 else 's'} left)"
                if left
                else "the consent code is wrong and spent; send a new one"
            )
        return check.iin


def new_key() -> str:
    """An idempotency key for one check of a code: never repeated, so a code verifies once."""
    return str(uuid.uuid4())
