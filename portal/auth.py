from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Authenticate by e-mail, whatever the case the customer types it in."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is not None:
            username = username.strip().lower()
        return super().authenticate(request, username=username, password=password, **kwargs)
