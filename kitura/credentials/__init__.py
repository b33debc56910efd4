"""kitura.credentials: Kitura-Credentials and Kitura-CredentialsHTTP for Kitura for Python.

``Credentials`` (the middleware, with plugins), ``UserProfile`` and
``request.user_profile`` (added to RouterRequest on import, as the Swift
extension does), the HTTP plugins ``CredentialsHTTPBasic`` and
``CredentialsHTTPDigest``, and the type-safe ``TypeSafeCredentials`` /
``TypeSafeHTTPBasic`` for Codable routes. Session-based (redirecting) plugins
need ``kitura.session``'s Session middleware in front.
"""
from __future__ import annotations

from .credentials import Credentials
from .http_basic import CredentialsHTTPBasic, UserProfileLoader, VerifyPassword
from .http_digest import CredentialsHTTPDigest
from .plugin import CredentialsPluginProtocol
from .typesafe import TypeSafeCredentials, TypeSafeHTTPBasic
from .user_profile import UserProfile, UserProfileEmail, UserProfileName, UserProfilePhoto

__all__ = ["Credentials", "CredentialsPluginProtocol", "UserProfile", "UserProfileName", "UserProfileEmail",
           "UserProfilePhoto", "CredentialsHTTPBasic", "CredentialsHTTPDigest", "VerifyPassword", "UserProfileLoader",
           "TypeSafeCredentials", "TypeSafeHTTPBasic"]
