"""Template tags of notify: the unread count shown in the navigation."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    """The signed-in user's unread notifications (0 for visitors), counted once per request."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    cached = getattr(request, "_certhub_unread_notifications", None)
    if cached is None:
        from certhub.notify.queries import unread_count

        cached = unread_count(user)
        request._certhub_unread_notifications = cached
    return cached


@register.simple_tag(takes_context=True)
def may_manage_webhooks(context) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    from certhub.notify.services import may_manage_webhooks as allowed

    return allowed(user, user.organisation)
