"""Kitura-Sample's Models/MyBasicAuth.swift, MySession.swift, UserPasswords.swift and SignUp.swift."""
from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass
from typing import ClassVar, Optional

from kitura.credentials import TypeSafeHTTPBasic
from kitura.session import SessionCookie, Store, TypeSafeSession

from models import Book


@dataclass
class MyBasicAuth(TypeSafeHTTPBasic):
    realm: ClassVar[str] = "HTTP Basic authentication: Username = username, Password = password"

    @classmethod
    def verify_password(cls, username, password, callback):
        if UserPasswords.check_password(username=username, password=password):
            callback(MyBasicAuth(id=username))
            return
        callback(None)

    id: str


# Defines the session instance data
class MySession(TypeSafeSession):

    session_id: str                             # Requirement: every session must have an ID
    books: list[Book]                           # User-defined type, where Book is a dataclass

    def __init__(self, session_id: str) -> None:    # Requirement: must be able to create a new (empty)
        self.session_id = session_id                # session containing just an ID. Assign a default or
        self.books = []                             # empty value for any non-optional properties.

    # Defines the configuration of the user's type: how the cookie is constructed, and how the session is
    # persisted.
    session_cookie: ClassVar[SessionCookie] = SessionCookie(name="MySession", secret="Top Secret")
    store: ClassVar[Optional[Store]] = None


def _hash(password: str) -> bytes:
    # Swift keeps `password.hashValue`; a real digest here, compared in constant time.
    return hashlib.sha256(password.encode("utf-8")).digest()


class UserPasswords:
    auth_semaphore = threading.Lock()
    _passwords: dict[str, bytes] = {"username": _hash("password")}

    @classmethod
    def add_password(cls, username: str, password: str) -> bool:
        with cls.auth_semaphore:
            if username in cls._passwords:
                return False
            cls._passwords[username] = _hash(password)
            return True

    @classmethod
    def check_password(cls, username: str, password: str) -> bool:
        with cls.auth_semaphore:
            hashed_password = cls._passwords.get(username)
        return hashed_password is not None and hmac.compare_digest(hashed_password, _hash(password))

    @classmethod
    def clear_passwords(cls) -> None:
        with cls.auth_semaphore:
            cls._passwords = {}


@dataclass
class SignUp:
    username: str
    password: str
