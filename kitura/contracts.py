"""KituraContracts' types that are not tied to the Router's machinery.

`TypeSafeMiddleware` is the contract of Kitura's type-safe middleware: a class
whose ``handle(request, response, completion)`` class method produces an instance
of itself (an authenticated user, a session) or refuses the request. A Codable
route parameter whose type is a TypeSafeMiddleware is produced by that middleware
and never decoded from the query string or the body.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

__all__ = ["TypeSafeMiddleware"]


class TypeSafeMiddleware:
    """Subclass and implement `handle` (Swift: ``static func handle(request:response:completion:)``).

    ``completion(instance, None)`` hands the instance to the route;
    ``completion(None, RequestError.FORBIDDEN)`` answers with that error's status;
    ``completion(None, None)`` answers 401 Unauthorized, as Kitura does. The
    completion may be called later, from any thread.
    """

    @classmethod
    def handle(cls, request: Any, response: Any,
               completion: Callable[[Optional[Any], Optional[Any]], None]) -> None:
        raise NotImplementedError(f"{cls.__name__} must implement the class method "
                                  "handle(request, response, completion)")
