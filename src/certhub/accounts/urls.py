from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from .forms import PasswordResetForm
from .views import login, profile, users
from .views.passwords import PasswordResetConfirmView

app_name = "accounts"

urlpatterns = [
    path("login/", login.login, name="login"),
    path("logout/", login.logout, name="logout"),
    path("two-factor/", login.second_factor, name="two_factor"),
    path("two-factor/setup/", login.setup_second_factor, name="two_factor_setup"),
    path("two-factor/backup-codes/", profile.regenerate_backup_codes, name="backup_codes"),
    path("two-factor/disable/", profile.disable_two_factor, name="two_factor_disable"),
    path("password/reset/", auth_views.PasswordResetView.as_view(
        form_class=PasswordResetForm,
        template_name="accounts/password_reset_form.html",
        email_template_name="accounts/email/password_reset.txt",
        subject_template_name="accounts/email/password_reset_subject.txt",
        success_url=reverse_lazy("accounts:password_reset_done"),
        extra_email_context={"site_url": settings.SITE_URL, "site_name": settings.SITE_NAME},
    ), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(
        template_name="accounts/password_reset_done.html"), name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(
        template_name="accounts/password_reset_complete.html"), name="password_reset_complete"),
    path("password/change/", profile.PasswordChangeView.as_view(), name="password_change"),
    path("profile/", profile.profile, name="profile"),
    path("tokens/", profile.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", profile.token_revoke, name="token_revoke"),
    path("users/", users.user_list, name="users"),
    path("users/new/", users.user_create, name="user_create"),
    path("users/<int:pk>/", users.user_detail, name="user_detail"),
    path("users/<int:pk>/deactivate/", users.user_deactivate, name="user_deactivate"),
    path("users/<int:pk>/activate/", users.user_activate, name="user_activate"),
    path("users/<int:pk>/reset-two-factor/", users.user_reset_two_factor,
         name="user_reset_two_factor"),
    path("users/<int:pk>/password-link/", users.user_send_password_link,
         name="user_password_link"),
    path("users/<int:pk>/tokens/<int:token_pk>/revoke/", users.user_token_revoke,
         name="user_token_revoke"),
]
