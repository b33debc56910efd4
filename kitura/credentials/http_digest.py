"""HTTP Digest authentication (RFC 7616, MD5 with qop=auth, as Kitura-CredentialsHTTP)."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from typing import Any, Callable, Optional

from .http_basic import UserProfileLoader
from .plugin import CredentialsPluginProtocol, InProgress, OnFailure, OnPass, OnSuccess
from .user_profile import UserProfile

__all__ = ["CredentialsHTTPDigest", "parse_digest_params"]

_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)')


def parse_digest_params(text: str) -> dict[str, str]:
    """``a="x", b=y`` -> ``{"a": "x", "b": "y"}`` (quoted values may hold commas)."""
    params: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        match = _PARAM.match(text, pos)
        if match is None or match.end() == pos:
            break
        quoted, bare = match.group(2), match.group(3)
        params[match.group(1).lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
        pos = match.end()
    return params


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


class CredentialsHTTPDigest(CredentialsPluginProtocol):
    """``CredentialsHTTPDigest(user_profile_loader=load, opaque=None, realm="Users")``: the
    loader gives the user's profile and password. Nonces are signed with a per-plugin key
    and expire after ``nonce_lifetime`` seconds (Kitura accepts any nonce, so a captured
    header could be replayed forever); a stale nonce gets a new challenge."""

    name = "HTTPDigest"
    redirecting = False
    qop = "auth"
    algorithm = "MD5"

    def __init__(self, user_profile_loader: UserProfileLoader, opaque: Optional[str] = None,
                 realm: Optional[str] = None, nonce_lifetime: float = 300.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.user_profile_loader = user_profile_loader
        self.opaque = opaque
        self.realm = realm if realm is not None else "Users"
        self.nonce_lifetime = nonce_lifetime
        self.users_cache = None
        self._key = secrets.token_bytes(32)
        self._clock = clock

    # -- nonces -----------------------------------------------------------------------
    def _sign(self, stamp: str) -> str:
        return hmac.new(self._key, stamp.encode("ascii"), hashlib.sha256).hexdigest()[:32]

    def generate_nonce(self) -> str:
        stamp = f"{int(self._clock()):x}"
        return stamp + ":" + self._sign(stamp)

    def _nonce_is_fresh(self, nonce: str) -> bool:
        stamp, _, mac = nonce.partition(":")
        try:
            issued = int(stamp, 16)
        except ValueError:
            return False
        return hmac.compare_digest(mac, self._sign(stamp)) and 0 <= self._clock() - issued <= self.nonce_lifetime

    def challenge(self, stale: bool = False) -> dict[str, str]:
        header = f'Digest realm="{self.realm}", nonce="{self.generate_nonce()}"'
        if self.opaque is not None:
            header += f', opaque="{self.opaque}"'
        header += f', algorithm="{self.algorithm}", qop="{self.qop}"'
        if stale:
            header += ", stale=true"
        return {"WWW-Authenticate": header}

    # -- the plugin -------------------------------------------------------------------
    def authenticate(self, request: Any, response: Any, options: dict[str, Any], on_success: OnSuccess,
                     on_failure: OnFailure, on_pass: OnPass, in_progress: InProgress) -> None:
        header = request.headers["Authorization"]
        if header is None or not header.startswith("Digest "):
            on_pass(401, self.challenge())
            return
        params = parse_digest_params(header[len("Digest "):])
        url = request.url_url
        uri = url.path + ("?" + url.query if url.query else "")
        required = ("username", "realm", "uri", "nonce", "cnonce", "nc", "qop", "response")
        if (any(key not in params for key in required) or params["realm"] != self.realm
                or params["uri"] not in (uri, request.url) or params["qop"] != self.qop
                or (self.opaque is not None and params.get("opaque") != self.opaque)
                or params.get("algorithm", self.algorithm) != self.algorithm):
            on_failure(400, None)
            return
        if not self._nonce_is_fresh(params["nonce"]):
            on_failure(401, self.challenge(stale=True))
            return
        method = getattr(request.method, "value", str(request.method))

        def loaded(profile: Optional[UserProfile], password: Optional[str]) -> None:
            if profile is None or password is None:
                on_failure(401, self.challenge())
                return
            ha1 = _md5(f"{params['username']}:{self.realm}:{password}")
            ha2 = _md5(f"{method}:{params['uri']}")
            expected = _md5(f"{ha1}:{params['nonce']}:{params['nc']}:{params['cnonce']}:{params['qop']}:{ha2}")
            if hmac.compare_digest(expected, params["response"].lower()):
                on_success(profile)
            else:
                on_failure(401, self.challenge())
        self.user_profile_loader(params["username"], loaded)
