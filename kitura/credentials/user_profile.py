"""UserProfile: who a request is, as an authentication plugin found out."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

__all__ = ["UserProfile", "UserProfileName", "UserProfileEmail", "UserProfilePhoto"]


@dataclass
class UserProfileName:
    family_name: str
    given_name: str
    middle_name: str


@dataclass
class UserProfileEmail:
    value: str
    type: str


@dataclass
class UserProfilePhoto:
    value: str


@dataclass
class UserProfile:
    """``UserProfile(id="ann", display_name="Ann", provider="HTTPBasic")``; Swift's nested
    ``UserProfile.UserProfileName`` etc. are also reachable as attributes of the class."""

    id: str
    display_name: str
    provider: str
    name: Optional[UserProfileName] = None
    emails: Optional[list[UserProfileEmail]] = None
    photos: Optional[list[UserProfilePhoto]] = None
    extended_properties: dict[str, Any] = field(default_factory=dict)

    UserProfileName = UserProfileName
    UserProfileEmail = UserProfileEmail
    UserProfilePhoto = UserProfilePhoto

    def to_session(self) -> dict[str, Any]:
        """The JSON form kept in a session (Kitura-Credentials' keys)."""
        data: dict[str, Any] = {"id": self.id, "displayName": self.display_name, "provider": self.provider}
        if self.name is not None:
            data.update(familyName=self.name.family_name, givenName=self.name.given_name,
                        middleName=self.name.middle_name)
        if self.emails is not None:
            data["emails"] = [email.value for email in self.emails]
            data["emailTypes"] = [email.type for email in self.emails]
        if self.photos is not None:
            data["photos"] = [photo.value for photo in self.photos]
        if self.extended_properties:
            data["extendedProperties"] = self.extended_properties
        return data

    @classmethod
    def from_session(cls, data: Any) -> Optional["UserProfile"]:
        """The profile kept by ``to_session``, or None when ``data`` is not one."""
        if not isinstance(data, dict):
            return None
        id, display_name, provider = data.get("id"), data.get("displayName"), data.get("provider")
        if not all(isinstance(v, str) for v in (id, display_name, provider)):
            return None
        name = None
        if all(isinstance(data.get(k), str) for k in ("familyName", "givenName", "middleName")):
            name = UserProfileName(data["familyName"], data["givenName"], data["middleName"])
        emails = None
        if isinstance(data.get("emails"), list) and isinstance(data.get("emailTypes"), list):
            emails = [UserProfileEmail(v, t) for v, t in zip(data["emails"], data["emailTypes"])]
        photos = [UserProfilePhoto(v) for v in data["photos"]] if isinstance(data.get("photos"), list) else None
        extended = data.get("extendedProperties")
        return cls(id, display_name, provider, name, emails, photos, extended if isinstance(extended, dict) else {})
