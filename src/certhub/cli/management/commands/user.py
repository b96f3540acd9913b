"""certhub user create|list|deactivate|reset-two-factor: manage accounts from the command line."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from certhub.accounts import services
from certhub.accounts.models import Role, User
from certhub.core.errors import CerthubError
from certhub.directory.models import Organisation


def _organisation(short_name: str) -> Organisation:
    org = Organisation.objects.filter(short_name__iexact=short_name.strip()).first()
    if org is None:
        known = ", ".join(Organisation.objects.order_by("short_name")
                          .values_list("short_name", flat=True)[:30])
        raise CommandError(f"unknown organisation {short_name!r}"
                           + (f"; known short names: {known}" if known else
                              "; the directory is empty"))
    return org


def _user(email: str) -> User:
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise CommandError(f"no user with the email {email!r}")
    return user


def _role(value: str) -> str:
    role = value.strip().lower().replace("-", "_")
    if role not in Role.values:
        raise CommandError(f"unknown role {value!r}; choose one of: {', '.join(Role.values)}")
    return role


class Command(BaseCommand):
    help = "Create, list and deactivate users."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        create = sub.add_parser("create", help="Create a user of an organisation.")
        create.add_argument("email", metavar="EMAIL")
        create.add_argument("--org", required=True, metavar="SHORTNAME",
                            help="Short name of the user's organisation, e.g. ThaiCERT.")
        create.add_argument("--role", required=True, metavar="ROLE",
                            help=f"One of: {', '.join(Role.values)}.")
        create.add_argument("--name", default="", help="Full name.")
        create.add_argument("--password-stdin", action="store_true",
                            help="Read the password from standard input. Without it, the user "
                                 "is emailed a link to choose one.")

        listing = sub.add_parser("list", help="List users.")
        listing.add_argument("--org", metavar="SHORTNAME", help="Only this organisation.")

        deactivate = sub.add_parser("deactivate",
                                    help="Stop a user from logging in and using tokens.")
        deactivate.add_argument("email", metavar="EMAIL")

        reset = sub.add_parser("reset-two-factor",
                               help="Remove a user's authenticator and backup codes (lost phone).")
        reset.add_argument("email", metavar="EMAIL")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action.replace('-', '_')}")(**options)
        except CerthubError as exc:
            raise CommandError(exc.message) from None

    def _create(self, *, email, org, role, name, password_stdin, **_):
        organisation, role = _organisation(org), _role(role)
        password = None
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("--password-stdin was given but no password was read")
        user = services.create_user(None, email=email, organisation=organisation, role=role,
                                    full_name=name, password=password, invite=False)
        self.stdout.write(f"Created {user.email} ({Role(role).label}, {organisation}).")
        if password is None:
            self._invite(user)
        if user.requires_two_factor:
            self.stdout.write("Two-factor authentication is required: the user sets it up at "
                              "the first login.")

    def _invite(self, user: User) -> None:
        try:
            services.send_password_set_email(user, invitation=True)
        except OSError as exc:
            self.stderr.write(f"The email with the password link could not be sent ({exc}). "
                              f"Set a password with: certhub changepassword {user.email}")
        else:
            self.stdout.write(f"No password given: {user.email} was emailed a link to choose "
                              f"one. To set it yourself instead: certhub changepassword "
                              f"{user.email}")

    def _list(self, *, org=None, **_):
        users = User.objects.select_related("organisation").order_by(
            "organisation__short_name", "email")
        if org:
            users = users.filter(organisation=_organisation(org))
        rows = [(u.email, u.organisation.short_name, u.role,
                 "active" if u.is_active else "inactive", u.full_name) for u in users]
        if not rows:
            self.stdout.write("No users.")
            return
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        for row in rows:
            self.stdout.write("  ".join(cell.ljust(widths[i]) if i < 4 else cell
                                        for i, cell in enumerate(row)).rstrip())

    def _deactivate(self, *, email, **_):
        user = _user(email)
        if not user.is_active:
            self.stdout.write(f"{user.email} was already inactive.")
            return
        services.set_active(None, user, False)
        self.stdout.write(f"Deactivated {user.email}: they can no longer log in and their "
                          f"tokens stop working.")

    def _reset_two_factor(self, *, email, **_):
        user = _user(email)
        services.reset_two_factor(None, user)
        self.stdout.write(f"Removed the second factor of {user.email}."
                          + (" They set up a new authenticator at the next login."
                             if user.requires_two_factor else ""))
