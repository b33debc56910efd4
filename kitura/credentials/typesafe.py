"""Type-safe credentials: TypeSafeCredentials and TypeSafeHTTPBasic, TypeSafeMiddleware
types whose instance is the authenticated user of a Codable route."""
from __future__ import annotations

from typing import Any, Callable, ClassVar, Optional

from kitura.contracts import TypeSafeMiddleware
from kitura.router.errors import RequestError

from .http_basic import MALFORMED, NO_CREDENTIALS, basic_credentials, challenge

__all__ = ["TypeSafeCredentials", "TypeSafeHTTPBasic"]

Status = Optional[Any]
Headers = Optional[dict[str, str]]


def _add_headers(response: Any, headers: Headers) -> None:
    for key, value in (headers or {}).items():
        response.headers.append(key, value)


class TypeSafeCredentials(TypeSafeMiddleware):
    """Implement ``authenticate(request, response, on_success, on_failure, on_skip)`` as a
    class method; instances have ``id`` and ``provider``. ``on_failure(status, headers)``
    refuses the request (401 unless another status is given); ``on_skip`` means no
    credentials of this kind were sent (401 too, unless the response already has a status)."""

    id: str
    provider: ClassVar[str] = ""

    @classmethod
    def authenticate(cls, request: Any, response: Any, on_success: Callable[[Any], None],
                     on_failure: Callable[[Status, Headers], None], on_skip: Callable[[Status, Headers], None]) -> None:
        raise NotImplementedError(f"{cls.__name__} must implement the class method "
                                  "authenticate(request, response, on_success, on_failure, on_skip)")

    @classmethod
    def handle(cls, request: Any, response: Any, completion: Callable[[Optional[Any], Optional[Any]], None]) -> None:
        def on_success(instance: Any) -> None:
            completion(instance, None)

        def on_failure(status: Status = None, headers: Headers = None) -> None:
            _add_headers(response, headers)
            completion(None, RequestError(status if status is not None else 401))

        def on_skip(status: Status = None, headers: Headers = None) -> None:
            _add_headers(response, headers)
            current = int(response.status_code.value)    # a status set earlier wins, as in Kitura
            completion(None, RequestError(current if current > 0 else (status if status is not None else 401)))

        cls.authenticate(request, response, on_success, on_failure, on_skip)


class TypeSafeHTTPBasic(TypeSafeCredentials):
    """HTTP Basic for Codable routes. Subclass (a dataclass with an ``id`` field suits), set
    ``realm`` and implement ``verify_password(username, password, callback)`` as a class
    method that calls ``callback(instance)`` or ``callback(None)``::

        @dataclass
        class MyBasicAuth(TypeSafeHTTPBasic):
            id: str
            realm: ClassVar[str] = "Users"

            @classmethod
            def verify_password(cls, username, password, callback):
                callback(cls(id=username) if check(username, password) else None)
    """

    provider: ClassVar[str] = "HTTPBasic"
    realm: ClassVar[str] = "User"

    @classmethod
    def verify_password(cls, username: str, password: str, callback: Callable[[Optional[Any]], None]) -> None:
        raise NotImplementedError(f"{cls.__name__} must implement the class method "
                                  "verify_password(username, password, callback)")

    @classmethod
    def authenticate(cls, request: Any, response: Any, on_success: Callable[[Any], None],
                     on_failure: Callable[[Status, Headers], None], on_skip: Callable[[Status, Headers], None]) -> None:
        found = basic_credentials(request)
        if found == NO_CREDENTIALS:
            on_skip(401, challenge(cls.realm))
            return
        if found == MALFORMED:
            on_failure(400, None)
            return
        username, password = found

        def verified(instance: Optional[Any]) -> None:
            if instance is not None:
                on_success(instance)
            else:
                on_failure(401, challenge(cls.realm))
        cls.verify_password(username, password, verified)
