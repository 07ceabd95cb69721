"""User accounts, roles and API tokens."""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from directory.accounts.emails import normalize_email
from directory.extensions import db
from directory.models.base import utcnow

if TYPE_CHECKING:
    from directory.models.practitioners import Practitioner


class Role(str, enum.Enum):
    """What an account is for."""

    PRACTITIONER = "practitioner"
    PROVIDER = "provider"
    ADMIN = "admin"


class ProviderStatus(str, enum.Enum):
    """Verification of a healthcare provider account."""

    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


def _enum(enum_cls):
    return Enum(enum_cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class User(UserMixin, db.Model):
    """A person who signs in: practitioner, healthcare provider or admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Always stored lower-cased (see `_lower_case_email`), so lookups compare it as it is and
    # use the unique index; never wrap it in lower() in a query.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300), default="")
    role: Mapped[Role] = mapped_column(_enum(Role))
    name: Mapped[str] = mapped_column(String(120), default="")
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Changes on sign-out and whenever the password or email changes: every session and
    # remember-me cookie carrying the old one stops working.
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))

    # Healthcare provider details (role == provider).
    profession: Mapped[str] = mapped_column(String(120), default="")
    organization: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    registration_number: Mapped[str] = mapped_column(String(80), default="")
    provider_status: Mapped[ProviderStatus] = mapped_column(_enum(ProviderStatus), default=ProviderStatus.PENDING)
    provider_status_reason: Mapped[str] = mapped_column(Text, default="")

    practitioner: Mapped[Practitioner | None] = relationship(back_populates="user")
    api_tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @validates("email")
    def _lower_case_email(self, _key: str, value: str) -> str:
        """Every writer (sign-up, email change, create-user, tests' factories) stores it normalised."""
        return normalize_email(value)

    def get_id(self) -> str:
        """Flask-Login identity: id plus session token, so a password change logs others out."""
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:
        """Disabled accounts cannot sign in."""
        return not self.disabled

    @property
    def is_confirmed(self) -> bool:
        """True once the email address has been confirmed."""
        return self.confirmed_at is not None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_practitioner(self) -> bool:
        return self.role == Role.PRACTITIONER

    @property
    def is_provider(self) -> bool:
        return self.role == Role.PROVIDER

    @property
    def can_refer(self) -> bool:
        """Providers may send referrals once an admin has verified them."""
        return self.role == Role.PROVIDER and self.provider_status == ProviderStatus.VERIFIED and not self.disabled

    @property
    def display_name(self) -> str:
        """Name to show, falling back to the email."""
        return self.name or self.email

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


def hash_token(token: str) -> str:
    """API tokens are stored as SHA-256 digests: they are long and random, so no KDF is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(db.Model):
    """A bearer token for the JSON API, stored hashed."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(back_populates="api_tokens")

    @classmethod
    def issue(cls, user: User, name: str = "") -> tuple[ApiToken, str]:
        """Create a token for the user; returns the row and the plain token (shown once)."""
        plain = "cst_" + secrets.token_urlsafe(32)
        token = cls(user=user, name=name, token_hash=hash_token(plain), prefix=plain[:10])
        db.session.add(token)
        return token, plain

    @classmethod
    def find_active(cls, plain: str) -> ApiToken | None:
        """The unrevoked token of an active user that this plain token is, or None (changes nothing)."""
        with db.session.no_autoflush:  # a lookup never writes the caller's pending changes
            token = db.session.execute(
                db.select(cls).where(cls.token_hash == hash_token(plain), cls.revoked_at.is_(None))
            ).scalar_one_or_none()
            if token is None or not token.user.is_active:
                return None
        return token

    @classmethod
    def find_user(cls, plain: str) -> User | None:
        """The active user a plain token belongs to, or None."""
        token = cls.find_active(plain)
        return token.user if token is not None else None
