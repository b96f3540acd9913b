"""certhub token create|list|revoke: personal API tokens from the command line.

``token create`` prints the token and nothing else on standard output, so a script can capture
it: ``TOKEN=$(certhub token create me@example.org --scope read)``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from certhub.accounts import tokens
from certhub.accounts.models import ApiToken, TokenScope, User
from certhub.core.errors import CerthubError


def _user(email: str) -> User:
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise CommandError(f"no user with the email {email!r}")
    return user


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


class Command(BaseCommand):
    help = "Create, list and revoke personal API tokens."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        create = sub.add_parser("create", help="Create a token; prints it once.")
        create.add_argument("email", metavar="EMAIL")
        create.add_argument("--scope", required=True, choices=TokenScope.values)
        create.add_argument("--expires", type=int, metavar="DAYS",
                            help="Days until the token stops working (default: never).")
        create.add_argument("--name", default="command line", help="What the token is for.")

        listing = sub.add_parser("list", help="List a user's tokens (never the tokens "
                                              "themselves).")
        listing.add_argument("email", metavar="EMAIL")

        revoke = sub.add_parser("revoke", help="Revoke a token by its id.")
        revoke.add_argument("id", type=int, metavar="ID")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except CerthubError as exc:
            raise CommandError(exc.message) from None

    def _create(self, *, email, scope, expires, name, **_):
        user = _user(email)
        if not user.is_active:
            raise CommandError(f"{user.email} is deactivated; a token would not work")
        token, secret = tokens.issue(user, name=name, scope=scope, expires_in_days=expires)
        self.stdout.write(secret)
        self.stderr.write(f"Token #{token.pk} for {user.email} ({token.get_scope_display()}, "
                          f"expires {_when(token.expires) if token.expires else 'never'}). "
                          "It is not stored and will not be shown again.")

    def _list(self, *, email, **_):
        user = _user(email)
        rows = [(str(t.pk), t.name, t.hint + "…", t.scope, _when(t.created), _when(t.expires),
                 _when(t.last_used), "revoked" if t.revoked else
                 ("active" if t.is_usable() else "expired"))
                for t in ApiToken.objects.filter(user=user).order_by("pk")]
        if not rows:
            self.stdout.write(f"{user.email} has no tokens.")
            return
        header = ("ID", "NAME", "STARTS WITH", "SCOPE", "CREATED", "EXPIRES", "LAST USED",
                  "STATUS")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            self.stdout.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
                              .rstrip())

    def _revoke(self, *, id, **_):
        token = ApiToken.objects.select_related("user").filter(pk=id).first()
        if token is None:
            raise CommandError(f"no token with the id {id}")
        if token.revoked:
            self.stdout.write(f"Token #{token.pk} was already revoked.")
            return
        tokens.revoke(token, actor=None)
        self.stdout.write(f"Revoked token #{token.pk} ({token.name}) of {token.user.email}.")
