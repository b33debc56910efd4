"""Kitura-Sample's JWTRoutes.swift, ported: JWTs through router.encoders / router.decoders.

Signed with HS256 (see swift_jwt.py) where the Swift sample uses RS256 key files.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any, Optional

from kitura import MediaType, RequestError, TypeSafeMiddleware
from kitura.log import Log

from swift_jwt import JWT, Header, JWTDecoder, JWTEncoder, JWTSigner, JWTVerifier, ValidateClaimsResult

# The Swift sample reads its keys from files in the project folder; here one HMAC secret,
# from the environment or made at start (tokens then last as long as the process).
_SECRET = os.environ.get("KITURA_SAMPLE_JWT_SECRET", "").encode() or os.urandom(32)


def initialize_jwt_routes(app: Any) -> None:
    # Create the JWT Coders
    try:
        jwt_encoder = generate_jwt_encoder()
        jwt_decoder = generate_jwt_decoder()
        # Set the JWT Coders on the route
        app.router.encoders[MediaType(type=MediaType.TopLevelType.APPLICATION, sub_type="jwt")] = lambda: jwt_encoder
        app.router.decoders[MediaType(type=MediaType.TopLevelType.APPLICATION, sub_type="jwt")] = lambda: jwt_decoder
    except Exception as error:  # noqa: BLE001 - as the Swift sample: log and skip the routes
        Log.error(f"failed to generate JWT coders: {error}")
        return

    # Register the app routes
    app.router.post("/jwt/create_token", handler=create_token)
    app.router.get("/jwt/protected", handler=protected_handler)
    app.router.post("/refreshJWT", handler=jwt_coder)


# Generate a JWTEncoder that signs the JWT with the signer for the 'kid' (Key id) header of the JWT.
def generate_jwt_encoder() -> JWTEncoder:
    jwt_signers = {"0": JWTSigner.hs256(key=_SECRET), "1": JWTSigner.hs256(key=_SECRET[::-1])}
    return JWTEncoder(key_id_to_signer=lambda kid: jwt_signers.get(kid))


# Generate a JWTDecoder that verifies the JWT with the verifier for the 'kid' (Key id) header of the JWT.
def generate_jwt_decoder() -> JWTDecoder:
    jwt_verifiers = {"0": JWTVerifier.hs256(key=_SECRET), "1": JWTVerifier.hs256(key=_SECRET[::-1])}
    return JWTDecoder(key_id_to_verifier=lambda kid: jwt_verifiers.get(kid))


@dataclass
class TokenDetails:
    # Standard JWT Fields
    sub: str
    kid: str
    # Custom JWT fields
    favourite: int
    iat: Optional[dt.datetime] = None
    exp: Optional[dt.datetime] = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


# Create a JWT token and return it to the user.
def create_token(claims: TokenDetails, respond_with) -> None:
    dated_claim = TokenDetails(sub=claims.sub,
                               iat=_now(),
                               exp=_now() + dt.timedelta(seconds=300),
                               kid=claims.kid,
                               favourite=claims.favourite)
    jwt = JWT[TokenDetails](header=Header(kid=claims.kid), claims=dated_claim)
    respond_with(jwt, None)


# A route that requires a valid JWT to be accessed
def protected_handler(type_safe_jwt: TypeSafeJWT[TokenDetails], respond_with) -> None:
    if type_safe_jwt.jwt.validate_claims() is not ValidateClaimsResult.SUCCESS:
        return respond_with(None, RequestError.BAD_REQUEST)
    respond_with(type_safe_jwt.jwt, None)


# A route that refreshes the date claims on the provided JWT and returns it to the user.
def jwt_coder(in_jwt: JWT[TokenDetails], respondwith) -> None:
    refreshed_jwt = JWT[TokenDetails](header=in_jwt.header, claims=TokenDetails(
        sub=in_jwt.claims.sub,
        iat=_now(),
        exp=_now() + dt.timedelta(seconds=300),
        kid=in_jwt.claims.kid,
        favourite=in_jwt.claims.favourite))
    respondwith(refreshed_jwt, None)


class TypeSafeJWT(TypeSafeMiddleware):
    """``TypeSafeJWT[TokenDetails]``: the request's Bearer token, verified, as a JWT of those claims."""

    claims_type: Any = None
    _specialised: dict[Any, type] = {}

    def __init__(self, jwt: JWT[Any]) -> None:
        self.jwt = jwt

    def __class_getitem__(cls, claims_type: Any) -> Any:
        special = cls._specialised.get(claims_type)
        if special is None:
            special = type(f"TypeSafeJWT[{claims_type.__name__}]", (cls,), {"claims_type": claims_type})
            cls._specialised[claims_type] = special
        return special

    @classmethod
    def handle(cls, request, response, completion) -> None:
        try:
            decoder = generate_jwt_decoder()
        except Exception:  # noqa: BLE001
            return completion(None, RequestError.INTERNAL_SERVER_ERROR)
        authorization_header = request.headers["Authorization"]
        components = authorization_header.split(" ") if authorization_header else []
        try:
            if len(components) != 2 or components[0] != "Bearer":
                raise ValueError("no Bearer token")
            jwt = decoder.decode_from_string(JWT[cls.claims_type], components[1])
        except ValueError:
            return completion(None, RequestError.UNAUTHORIZED)
        completion(cls(jwt=jwt), None)
