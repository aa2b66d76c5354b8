"""Signed tokens (JWT) checked against a key set read once, at start-up: the bearer tokens
that name a client (``[jwt]``) and the person's consent tokens (``[access]
consent_jwks_file``).

    keys = KeySet.from_file(Path("jwks.json"))
    claims = keys.verify(token, issuer="https://idp.example", audience="regbus")

Every failure is a ``TokenError`` whose text says what was wrong (expired, another audience or
issuer, a key the set lacks, a bad signature), fit to send back to the caller.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jwt

# What decoding a token costs is mostly the signature; tokens are short-lived and repeated,
# so a verified one is remembered until it expires (bounded).
MAX_REMEMBERED = 4096


class TokenError(ValueError):
    """A token that cannot be accepted; the message says why."""


class KeySet:
    """The public keys of one issuer, by key id."""

    def __init__(self, keys: dict[str, jwt.PyJWK], source: str) -> None:
        self.keys = keys
        self.source = source

    @classmethod
    def from_file(cls, path: Path, algorithms: Sequence[str] = ()) -> KeySet:
        """Read a JSON Web Key Set; ``ValueError`` says what is wrong with the file."""
        try:
            data = json.loads(path.read_text("utf-8"))
        except OSError as exc:
            raise ValueError(f"cannot read the key set {path}: {exc.strerror or exc}") from exc
        except ValueError as exc:
            raise ValueError(f"{path} is not JSON: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise ValueError(f'{path} is not a JSON Web Key Set (an object with "keys")')
        keys: dict[str, jwt.PyJWK] = {}
        for index, entry in enumerate(data["keys"]):
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            try:
                key = jwt.PyJWK(entry)
            except jwt.PyJWTError as exc:
                raise ValueError(f"{path}: key {index} cannot be used: {exc}") from exc
            if algorithms and key.algorithm_name not in algorithms:
                raise ValueError(
                    f"{path}: key {entry.get('kid', index)} is for {key.algorithm_name},"
                    f" not one of {', '.join(algorithms)}"
                )
            keys[str(entry.get("kid", ""))] = key
        if not keys:
            raise ValueError(f"{path} holds no signing key")
        return cls(keys, str(path))

    def verify(
        self,
        token: str,
        *,
        issuer: str = "",
        audience: str = "",
        leeway: float = 30.0,
        require: Sequence[str] = ("exp",),
    ) -> dict[str, Any]:
        """The token's claims, once its signature, issuer, audience and times are checked."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenError(f"the token is not a signed JWT ({exc})") from None
        kid = str(header.get("kid", ""))
        key = self.keys.get(kid)
        if key is None and not kid and len(self.keys) == 1:
            key = next(iter(self.keys.values()))
        if key is None:
            raise TokenError(f"the token is signed with key {kid or '(no kid)'!r}, not a known one")
        if header.get("alg") != key.algorithm_name:
            raise TokenError(
                f"the token says algorithm {header.get('alg')!r}, its key is for"
                f" {key.algorithm_name}"
            )
        required = [*require, *(["iss"] if issuer else []), *(["aud"] if audience else [])]
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[key.algorithm_name],
                issuer=issuer or None,
                audience=audience or None,
                leeway=leeway,
                options={"require": required, "verify_aud": bool(audience)},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise TokenError("the token is not valid yet (nbf, iat)") from None
        except jwt.InvalidAudienceError:
            raise TokenError(f"the token is not for audience {audience!r}") from None
        except jwt.InvalidIssuerError:
            raise TokenError(f"the token is not from issuer {issuer!r}") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenError(f"the token has no {exc.claim!r} claim") from None
        except jwt.InvalidSignatureError:
            raise TokenError("the token's signature does not verify") from None
        except jwt.PyJWTError as exc:
            raise TokenError(f"the token cannot be accepted: {exc}") from None
        return claims
