"""HTTP Digest authentication (RFC 7616, MD5 with qop=auth, as Kitura-CredentialsHTTP)."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Optional

from .http_basic import UserProfileLoader
from .plugin import CredentialsPluginProtocol, InProgress, OnFailure, OnPass, OnSuccess
from .user_profile import UserProfile

__all__ = ["CredentialsHTTPDigest", "parse_digest_params"]

_NONCE_STAMP = re.compile(r"[0-9a-f]{1,16}:[0-9a-f]{16}")     # generate_nonce's time and salt
_NC = re.compile(r"[0-9A-Fa-f]{1,8}")         # the request counter (RFC 7616: 8 hex digits)
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
    return hashlib.md5(text.encode("utf-8", "replace"), usedforsecurity=False).hexdigest()


def _same(a: str, b: str) -> bool:
    """Constant-time comparison that never raises (``compare_digest`` refuses non-ASCII str)."""
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


class CredentialsHTTPDigest(CredentialsPluginProtocol):
    """``CredentialsHTTPDigest(user_profile_loader=load, opaque=None, realm="Users")``: the
    loader gives the user's profile and password. Nonces are signed with a per-plugin key
    and expire after ``nonce_lifetime`` seconds (Kitura accepts any nonce, so a captured
    header could be replayed forever); a stale nonce gets a new challenge. Within its
    lifetime a nonce's ``nc`` must grow from one accepted request to the next (RFC 7616
    3.4), so a captured header is not accepted twice; at most ``max_tracked_nonces`` are
    remembered (the oldest go first, and their clients get a fresh challenge)."""

    max_tracked_nonces = 10_000

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
        self._last_nc: OrderedDict[str, tuple[int, int]] = OrderedDict()   # nonce -> (issued, last nc)
        self._nc_lock = threading.Lock()
        self._forgotten_before = 0      # untracked nonces issued before this second may have been used

    # -- nonces -----------------------------------------------------------------------
    def _sign(self, stamp: str) -> str:
        return hmac.new(self._key, stamp.encode("ascii"), hashlib.sha256).hexdigest()[:32]

    def generate_nonce(self) -> str:
        """``stamp:salt:mac``: the hex issue time, 16 random hex digits (each challenge its
        own nonce, so clients never share an ``nc`` sequence), and their signature."""
        stamp = f"{int(self._clock()):x}:{secrets.token_hex(8)}"
        return stamp + ":" + self._sign(stamp)

    def _nonce_is_fresh(self, nonce: str) -> bool:
        stamp, _, mac = nonce.rpartition(":")
        if _NONCE_STAMP.fullmatch(stamp) is None:
            return False
        issued = int(stamp.partition(":")[0], 16)
        return _same(mac, self._sign(stamp)) and 0 <= self._clock() - issued <= self.nonce_lifetime

    def _count_use(self, nonce: str, nc: int) -> bool:
        """Record an accepted request with counter ``nc``; False when it does not grow (a replay)."""
        issued = int(nonce.partition(":")[0], 16)
        with self._nc_lock:
            tracked = self._last_nc
            last = tracked.get(nonce)
            if last is not None and nc <= last[1]:
                return False
            if last is None and issued < self._forgotten_before:
                return False            # pushed out of the bounded set while fresh: ask for a new one
            tracked[nonce] = (issued, nc)
            oldest_fresh = self._clock() - self.nonce_lifetime
            while tracked:              # first seen, first out: about the order nonces were issued in
                first_issued = next(iter(tracked.values()))[0]
                if len(tracked) <= self.max_tracked_nonces and first_issued >= oldest_fresh:
                    break
                if first_issued >= oldest_fresh:
                    self._forgotten_before = max(self._forgotten_before, first_issued + 1)
                tracked.popitem(last=False)
            return True

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
        if _NC.fullmatch(params["nc"]) is None:
            on_failure(401, self.challenge())
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
            if not _same(expected, params["response"].lower()):
                on_failure(401, self.challenge())
            elif self._count_use(params["nonce"], int(params["nc"], 16)):
                on_success(profile)
            else:                           # the same nonce and nc again: a replayed header
                on_failure(401, self.challenge())
        self.user_profile_loader(params["username"], loaded)
