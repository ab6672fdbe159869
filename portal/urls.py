from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import admin_dashboard, forms, health, registration_views, views

admin.site.site_header = "Optima · Back office Area Clienti"
admin.site.site_title = "Optima back office"
admin.site.index_title = "Reclami, bollette, contratti"

account_urls = [
    path(
        "accedi/",
        auth_views.LoginView.as_view(authentication_form=forms.LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("esci/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            form_class=forms.PasswordResetForm,
            email_template_name="registration/password_reset_email.txt",
            html_email_template_name="registration/password_reset_email.html",
            subject_template_name="registration/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path("password/reset/inviato/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(form_class=forms.SetPasswordForm),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/fatto/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "password/cambia/",
        auth_views.PasswordChangeView.as_view(form_class=forms.PasswordChangeForm),
        name="password_change",
    ),
    path("password/cambiata/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("registrati/", registration_views.register, name="register"),
    path("registrati/inviato/", registration_views.register_sent, name="register_sent"),
    path("attiva/<str:token>/", registration_views.activate, name="register_activate"),
]

urlpatterns = [
    path("", views.root, name="home"),
    path("profilo/", views.profile, name="profile"),
    path("contratti/", include("contracts.urls")),
    path("bollette/", include("billing.urls")),
    path("comunicazioni/", include("portal.notifications.urls")),
    path("", include("complaints.urls")),
    path("qualita-del-servizio/", include("complaints.reporting_urls")),
    path("account/", include(account_urls)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", health.healthz, name="healthz"),
    # Browsers and feed readers ask for /favicon.ico whatever the page links to.
    path("favicon.ico", views.favicon),
    path("admin/cruscotto/", admin.site.admin_view(admin_dashboard.dashboard_view), name="staff_dashboard"),
    path("admin/", admin.site.urls),
]
