"""Accounts: users, password checks and API bearer tokens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from db import db
from db.models import Site, User
from motcua.errors import InvalidCredentials, Unauthorized, ValidationFailed
from motcua.inputs import fits_db_int
from motcua.services.common import transactional
from motcua.timeutil import ensure_now

ROLES = ("officer", "leader", "admin")
MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True)
class UserView:
    """A user as the surfaces see it (no password hash)."""

    id: int
    username: str
    full_name: str
    position: str
    unit: str
    role: str
    active: bool
    photo: str | None = None
    # The sites the account is scoped to; empty: province-wide (services/scopes.py).
    site_ids: tuple[int, ...] = ()

    @property
    def province(self) -> bool:
        """True for a province-wide account (no sites of its own)."""
        return not self.site_ids

    def has_role(self, *roles: str) -> bool:
        """True when the user has one of the roles (admin has them all)."""
        return self.role in roles or self.role == "admin"


def _view(user: User) -> UserView:
    return UserView(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        position=user.position,
        unit=user.unit,
        role=user.role,
        active=user.active,
        photo=user.photo,
        site_ids=tuple(s.id for s in user.sites),
    )


@transactional
def create_user(
    username: str,
    *,
    full_name: str,
    role: str,
    password: str,
    position: str = "",
    unit: str = "",
    site_codes: Sequence[str] = (),
    now: dt.datetime | None = None,
) -> UserView:
    """Create an account with a hashed password; ``site_codes`` scope it to those sites (none:
    province-wide)."""
    username = username.strip().lower()
    if role not in ROLES:
        raise ValidationFailed(field="role")
    if not username or not full_name.strip():
        raise ValidationFailed(field="username")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(_l("Mật khẩu cần ít nhất 8 ký tự."), field="password")
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        raise ValidationFailed(_l("Tên đăng nhập đã tồn tại."), field="username")
    codes = sorted({c.strip().lower() for c in site_codes if c.strip()})
    sites = list(db.session.scalars(sa.select(Site).where(Site.code.in_(codes))))
    if len(sites) != len(codes):
        unknown = sorted(set(codes) - {s.code for s in sites})
        raise ValidationFailed(
            _l("Không có điểm tiếp nhận: %(codes)s.", codes=", ".join(unknown)), field="sites"
        )
    user = User(
        username=username,
        full_name=full_name.strip(),
        role=role,
        position=position,
        unit=unit,
        password_hash=generate_password_hash(
            password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        ),
        active=True,
        created_at=ensure_now(now),
        sites=sorted(sites, key=lambda s: s.id),
    )
    db.session.add(user)
    db.session.commit()
    return _view(user)


@transactional
def authenticate(username: str, password: str) -> UserView:
    """Check a username and password; raise InvalidCredentials otherwise."""
    user = db.session.scalar(
        sa.select(User).where(User.username == (username or "").strip().lower())
    )
    if (
        user is None
        or not user.active
        or not check_password_hash(user.password_hash, password or "")
    ):
        raise InvalidCredentials()
    return _view(user)


@transactional
def get_user(user_id: int) -> UserView | None:
    """An active user by id, or None."""
    if not fits_db_int(user_id):
        return None
    user = db.session.get(User, user_id)
    return _view(user) if user is not None and user.active else None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="motcua-api-token")


def issue_api_token(user: UserView) -> dict[str, Any]:
    """A signed, expiring bearer token for the API."""
    max_age = int(current_app.config.get("API_TOKEN_MAX_AGE", 12 * 3600))
    token = _serializer().dumps({"uid": user.id})
    return {"access_token": token, "token_type": "Bearer", "expires_in": max_age}


def user_from_api_token(token: str) -> UserView:
    """The user a bearer token was issued to; raise Unauthorized if bad or expired."""
    max_age = int(current_app.config.get("API_TOKEN_MAX_AGE", 12 * 3600))
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise Unauthorized(_l("Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại.")) from exc
    except BadSignature as exc:
        raise Unauthorized() from exc
    uid = data.get("uid") if isinstance(data, dict) else None
    # A token signed with our key but not made by issue_api_token (say, a key leaked to a
    # tool) is refused like a forged one, never a 500.
    user = get_user(uid) if isinstance(uid, int) and fits_db_int(uid) else None
    if user is None:
        raise Unauthorized()
    return user
