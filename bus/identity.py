"""Who is calling: the client a call comes from, taken from its transport, never from the
request, once per call.

    identity = Identity.from_config(config)           # reads the key set at start-up
    client = identity.client(grpc_context, authorization)   # a client id, or Unauthenticated

* Mutual TLS (``[tls] client_ca_file``): the handshake refuses a caller without a certificate
  signed by that CA; the certificate's names (its subject alternative names, else its common
  name) are looked up in the clients' ``certificate_names`` (by default each client's id).
* Signed tokens (``[jwt]``): ``authorization: Bearer <JWT>`` checked against the key set
  (signature, ``iss``, ``aud``, ``exp``); its ``client_id`` claim, else ``sub``, names the
  client. With both, a token, when sent, names the client; otherwise the certificate does.
* Neither: nobody is authenticated and every call is ``[access] local_client``; the bus then
  listens on loopback only (``bus.access.exposure_problem``).

Also here: the server's TLS credentials for gRPC and its SSL context for the HTTP side.
"""

from __future__ import annotations

import logging
import ssl
import time
from pathlib import Path
from typing import Any

import grpc

from regbus.adapters.errors import Unauthenticated
from regbus.bus.access import TlsSettings
from regbus.bus.config import Config, ConfigError
from regbus.bus.tokens import KeySet, TokenError

log = logging.getLogger("regbus.access")
# Verified bearer tokens remembered (until they expire) so a repeated one costs a dict lookup.
MAX_REMEMBERED = 4096
_BEARER = "bearer "


class Identity:
    """Turns a call's transport into a client id."""

    def __init__(
        self,
        *,
        local_client: str | None,
        mutual: bool = False,
        certificate_names: dict[str, str] | None = None,
        keys: KeySet | None = None,
        issuer: str = "",
        audience: str = "",
        leeway: float = 30.0,
    ) -> None:
        self.local_client = local_client  # set: nobody is authenticated
        self.mutual = mutual
        self._names = {n.encode(): c for n, c in (certificate_names or {}).items()}
        self._keys = keys
        self._issuer, self._audience, self._leeway = issuer, audience, leeway
        self._remembered: dict[str, tuple[str, float]] = {}
        # Whether a call's metadata must be read to know who calls.
        self.reads_authorization = keys is not None

    @classmethod
    def from_config(cls, config: Config) -> Identity:
        """``ConfigError`` when the key set cannot be read."""
        tls, jwt, access = config.tls, config.jwt, config.access
        names = {n: c.id for c in access.clients.values() for n in c.names}
        keys = None
        if jwt.enabled:
            try:
                keys = KeySet.from_file(Path(jwt.jwks_file), jwt.algorithms)
            except ValueError as exc:
                raise ConfigError(f"{config.source}: jwt.jwks_file: {exc}") from exc
        authenticated = tls.mutual or keys is not None
        return cls(
            local_client=None if authenticated else access.local_client,
            mutual=tls.mutual,
            certificate_names=names,
            keys=keys,
            issuer=jwt.issuer,
            audience=jwt.audience,
            leeway=jwt.leeway,
        )

    def describe(self) -> str:
        """How callers are identified, for the start-up log."""
        if self.local_client is not None:
            return (
                "no authentication (no [tls] client_ca_file, no [jwt]): every call is client"
                f" {self.local_client!r}"
            )
        ways = []
        if self.mutual:
            ways.append("client certificates (mutual TLS)")
        if self._keys is not None:
            ways.append(f"bearer tokens from {self._issuer} (keys: {self._keys.source})")
        return "callers identified by " + " or ".join(ways)

    def client(self, context: grpc.aio.ServicerContext, authorization: str = "") -> str:
        """The calling client's id; ``Unauthenticated`` when nothing names one."""
        if self.local_client is not None:
            return self.local_client
        if authorization and self._keys is not None:
            return self._from_token(authorization)
        if self.mutual:
            return self._from_certificate(context)
        raise self._refuse(
            context, "this bus needs a bearer token: send metadata authorization: Bearer <JWT>"
        )

    def _from_certificate(self, context: grpc.aio.ServicerContext) -> str:
        names = context.peer_identities() or ()
        found = {self._names[n] for n in names if n in self._names}
        if len(found) == 1:
            return found.pop()
        if not found:  # subject alternative names that name no client: the common name
            auth: dict[str, Any] = context.auth_context() or {}
            found = {self._names[n] for n in auth.get("x509_common_name", ()) if n in self._names}
            if len(found) == 1:
                return found.pop()
            names = [*names, *auth.get("x509_common_name", ())]
        shown = ", ".join(n.decode(errors="replace") for n in names) or "none"
        if found:
            why = f"the client certificate names several clients ({', '.join(sorted(found))})"
        else:
            why = f"the client certificate (names: {shown}) names no declared client"
        raise self._refuse(context, why)

    def _from_token(self, authorization: str) -> str:
        if authorization[: len(_BEARER)].lower() != _BEARER:
            raise Unauthenticated("authorization must be: Bearer <JWT>")
        token = authorization[len(_BEARER) :].strip()
        remembered = self._remembered.get(token)
        if remembered is not None and time.time() < remembered[1] + self._leeway:
            return remembered[0]
        assert self._keys is not None
        try:
            claims = self._keys.verify(
                token, issuer=self._issuer, audience=self._audience, leeway=self._leeway
            )
        except TokenError as exc:
            log.warning("unauthenticated call refused: %s", exc)
            raise Unauthenticated(str(exc)) from None
        client = claims.get("client_id") or claims.get("sub")
        if not isinstance(client, str) or not client:
            raise Unauthenticated("the token names no client (client_id or sub claim)")
        if len(self._remembered) >= MAX_REMEMBERED:
            self._remembered.clear()
        self._remembered[token] = (client, float(claims["exp"]))
        return client

    def _refuse(self, context: grpc.aio.ServicerContext, why: str) -> Unauthenticated:
        log.warning("unauthenticated call from %s refused: %s", context.peer(), why)
        return Unauthenticated(why)


# TLS ------------------------------------------------------------------------------------------


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"tls.{what}: cannot read {path}: {exc.strerror or exc}") from exc


def server_credentials(tls: TlsSettings) -> grpc.ServerCredentials:
    """gRPC server credentials: the bus's certificate, and with ``client_ca_file`` a client
    certificate signed by that CA required at the handshake."""
    key = _read(tls.key_file, "key_file")
    chain = _read(tls.cert_file, "cert_file")
    roots = _read(tls.client_ca_file, "client_ca_file") if tls.mutual else None
    return grpc.ssl_server_credentials(
        [(key, chain)], root_certificates=roots, require_client_auth=tls.mutual
    )


def http_ssl_context(tls: TlsSettings) -> ssl.SSLContext:
    """TLS for the HTTP side (metrics, status, probes) with the same certificate. Client
    certificates are not asked for there: probes and scrapers rarely have one, and nothing
    personal is served."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"tls: cannot load {tls.cert_file} with {tls.key_file}: {exc}") from exc
    return context
