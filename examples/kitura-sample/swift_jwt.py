"""The part of SwiftJWT that Kitura-Sample's JWT routes use, with HS256 signatures.

Kitura-Sample signs with RS256 and key files; this port signs with HS256 (HMAC-SHA256,
the standard library's ``hmac``) so that no private key ships with the example and no
extra dependency is needed. ``JWT[Claims]``, ``Header(kid=)``, ``JWTSigner.hs256(key=)``,
``JWTVerifier.hs256(key=)``, ``JWTEncoder(key_id_to_signer=)``,
``JWTDecoder(key_id_to_verifier=)`` and ``jwt.validate_claims()`` keep SwiftJWT's names.
Claims are dataclasses; their ``datetime`` fields travel as NumericDate (seconds).
"""
from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import hashlib
import hmac
import json
import typing
from typing import Any, Callable, ClassVar, Generic, Optional, TypeVar

from kitura.router.codec import decode_model, to_jsonable

C = TypeVar("C")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class JWTSigner:
    def __init__(self, name: str, sign: Callable[[bytes], bytes]) -> None:
        self.name, self.sign = name, sign

    @classmethod
    def hs256(cls, key: bytes) -> "JWTSigner":
        return cls("HS256", lambda data: hmac.new(key, data, hashlib.sha256).digest())


class JWTVerifier:
    def __init__(self, name: str, verify: Callable[[bytes, bytes], bool]) -> None:
        self.name, self.verify = name, verify

    @classmethod
    def hs256(cls, key: bytes) -> "JWTVerifier":
        return cls("HS256", lambda data, signature: hmac.compare_digest(
            hmac.new(key, data, hashlib.sha256).digest(), signature))


@dataclasses.dataclass
class Header:
    kid: Optional[str] = None
    typ: Optional[str] = "JWT"
    alg: Optional[str] = None


class ValidateClaimsResult(enum.Enum):
    SUCCESS = "success"
    EXPIRED = "expired"
    NOT_VALID_YET = "notValidYet"
    ISSUED_AT = "issuedAt"


@dataclasses.dataclass
class JWT(Generic[C]):
    """``JWT[TokenDetails](header=Header(kid="0"), claims=details)``."""

    header: Header
    claims: C
    claims_type: ClassVar[Any] = None
    _specialised: ClassVar[dict[Any, type]] = {}

    def __class_getitem__(cls, claims_type: Any) -> Any:
        # JWT[TokenDetails] is a real class that knows its claims type (the decoder needs it).
        if isinstance(claims_type, TypeVar):
            return super().__class_getitem__(claims_type)  # type: ignore[misc]
        special = cls._specialised.get(claims_type)
        if special is None:
            special = type(f"JWT[{claims_type.__name__}]", (cls,), {"claims_type": claims_type})
            cls._specialised[claims_type] = special
        return special

    def validate_claims(self, leeway: float = 0) -> ValidateClaimsResult:
        now = dt.datetime.now(dt.timezone.utc)
        exp = getattr(self.claims, "exp", None)
        if exp is not None and now > exp + dt.timedelta(seconds=leeway):
            return ValidateClaimsResult.EXPIRED
        nbf = getattr(self.claims, "nbf", None)
        if nbf is not None and now < nbf - dt.timedelta(seconds=leeway):
            return ValidateClaimsResult.NOT_VALID_YET
        iat = getattr(self.claims, "iat", None)
        if iat is not None and now < iat - dt.timedelta(seconds=leeway):
            return ValidateClaimsResult.ISSUED_AT
        return ValidateClaimsResult.SUCCESS


def _claims_json(claims: Any) -> dict[str, Any]:
    data = {k: v for k, v in to_jsonable(claims).items() if v is not None}
    for f in dataclasses.fields(claims):
        value = getattr(claims, f.name)
        if isinstance(value, dt.datetime):
            data[f.name] = int(value.timestamp())      # NumericDate
    return data


def _claims_from_json(claims_type: Any, data: Any) -> Any:
    if not isinstance(data, dict):
        raise ValueError("the JWT claims are not a JSON object")
    hints = typing.get_type_hints(claims_type)
    data = dict(data)
    for name, hint in hints.items():
        inner = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
        if inner[0] is dt.datetime and isinstance(data.get(name), (int, float)):
            data[name] = dt.datetime.fromtimestamp(data[name], dt.timezone.utc).isoformat()
    return decode_model(claims_type, data)


class JWTEncoder:
    """A BodyEncoder: a JWT to its compact form, signed by the signer for its header's kid."""

    def __init__(self, key_id_to_signer: Callable[[str], Optional[JWTSigner]]) -> None:
        self.key_id_to_signer = key_id_to_signer

    def encode(self, value: JWT[Any]) -> bytes:
        return self.encode_to_string(value).encode("ascii")

    def encode_to_string(self, value: JWT[Any]) -> str:
        signer = self.key_id_to_signer(value.header.kid or "")
        if signer is None:
            raise ValueError(f"no signer for the key id {value.header.kid!r}")
        header = {k: v for k, v in to_jsonable(value.header).items() if v is not None}
        header["alg"] = signer.name
        signing_input = (_b64(json.dumps(header, separators=(",", ":")).encode()) + "."
                         + _b64(json.dumps(_claims_json(value.claims), separators=(",", ":")).encode()))
        return signing_input + "." + _b64(signer.sign(signing_input.encode("ascii")))


class JWTDecoder:
    """A BodyDecoder: a compact JWT to ``JWT[Claims]``, verified by the verifier for its kid."""

    def __init__(self, key_id_to_verifier: Callable[[str], Optional[JWTVerifier]]) -> None:
        self.key_id_to_verifier = key_id_to_verifier

    def decode(self, type: Any, from_: bytes) -> JWT[Any]:
        return self.decode_from_string(type, from_.decode("ascii", "replace").strip())

    def decode_from_string(self, type: Any, string: str) -> JWT[Any]:
        parts = string.split(".")
        if len(parts) != 3:
            raise ValueError("a JWT has three parts separated by dots")
        try:
            header = json.loads(_unb64(parts[0]))
            claims = json.loads(_unb64(parts[1]))
            signature = _unb64(parts[2])
        except ValueError:
            raise ValueError("the JWT is not base64url-encoded JSON") from None
        verifier = self.key_id_to_verifier(str(header.get("kid", "")))
        if verifier is None or header.get("alg") != verifier.name:
            raise ValueError("no verifier for this JWT's key id and algorithm")
        if not verifier.verify(f"{parts[0]}.{parts[1]}".encode("ascii"), signature):
            raise ValueError("the JWT's signature does not verify")
        return type(header=decode_model(Header, header), claims=_claims_from_json(type.claims_type, claims))
