"""The demo's three users, each with a password of its own.

`admin` (superuser), `clerk` (group Warehouse) and `manager` (group Managers). A new user's password
comes from `DEMO_<USER>_PASSWORD` or is generated; either must pass Django's password validators,
and a generated one never starts with a hyphen (it would read as an option when pasted into a
shell command). An existing user keeps its password and only gets its group.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

# username, group, superuser, first name
DEMO_USERS = (
    ("admin", None, True, "Admin"),
    ("clerk", "Warehouse", False, "仓库"),
    ("manager", "Managers", False, "主管"),
)


@dataclass
class DemoUser:
    user: object
    group: str | None
    password: str | None = None  # set only when the user was created now
    from_environment: str = ""  # the variable the password came from, if any

    @property
    def username(self) -> str:
        return self.user.get_username()


def password_variable(username: str) -> str:
    return f"DEMO_{username.upper()}_PASSWORD"


def generate_password(user) -> str:
    """A random password that the configured validators accept and that does not start with '-'."""
    while True:
        candidate = secrets.token_urlsafe(12)
        if candidate.startswith("-"):
            continue
        try:
            validate_password(candidate, user)
        except ValidationError:
            continue
        return candidate


def ensure_demo_users() -> list[DemoUser]:
    """Create the missing demo users with their passwords; put every demo user in its group.

    Raises ValidationError when a password chosen in the environment fails the validators.
    """
    users = []
    for username, group, superuser, first_name in DEMO_USERS:
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": superuser, "first_name": first_name}
        )
        demo_user = DemoUser(user=user, group=group)
        if created:
            variable = password_variable(username)
            chosen = os.environ.get(variable) or ""
            if chosen:
                validate_password(chosen, user)
                demo_user.from_environment = variable
            demo_user.password = chosen or generate_password(user)
            user.set_password(demo_user.password)
            user.save(update_fields=["password"])
        if group:
            user.groups.add(Group.objects.get(name=group))
        users.append(demo_user)
    return users


def existing_demo_users() -> list[DemoUser]:
    """The demo users already there (for the summary of a run that had nothing to do)."""
    by_name = {u.get_username(): u for u in get_user_model().objects.filter(username__in=[u[0] for u in DEMO_USERS])}
    return [DemoUser(user=by_name[name], group=group) for name, group, _s, _f in DEMO_USERS if name in by_name]
