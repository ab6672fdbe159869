from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.fields import TaxIdField
from portal import registration
from portal.lib import emails
from portal.notifications.rendering import supported_language


class LoginForm(auth_forms.AuthenticationForm):
    username = forms.EmailField(
        label=_("Indirizzo e-mail"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Accedi"), css_class="w-100"))


class PasswordResetForm(auth_forms.PasswordResetForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Invia il link")))

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        """Django's reset link in our layout, in the customer's language (the page's for staff)."""
        customer = getattr(context["user"], "customer", None)
        language = customer.language if customer is not None else get_language()
        emails.templated_customer_email(
            subject_template=subject_template_name,
            text_template=email_template_name,
            html_template=html_email_template_name,
            context=context,
            to=[to_email],
            language=supported_language(language),
        ).send()


class SetPasswordForm(auth_forms.SetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Salva la nuova password")))


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Cambia password")))


class RegistrationForm(forms.Form):
    """Registration of an existing customer. `website` is a honeypot: people never see it, bots fill it."""

    # Compact, with an IT prefix dropped, before the check character is checked: that catches most typos here,
    # instead of an e-mail that never arrives. Saying the format is wrong reveals nothing about who is a customer.
    tax_id = TaxIdField(
        label=_("Codice fiscale o partita IVA"),
        help_text=_("Quello dell'intestatario del contratto."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    customer_code = forms.CharField(
        label=_("Codice cliente"),
        max_length=20,
        help_text=_("È stampato su ogni bolletta e su ogni lettera."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    email = forms.EmailField(
        label=_("Indirizzo e-mail"),
        help_text=_("Ti mandiamo qui il link per attivare l'account; sarà anche il tuo nome utente."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    website = forms.CharField(
        label=_("Non compilare questo campo"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_customer_code(self):
        return "".join(self.cleaned_data["customer_code"].split()).upper()

    @property
    def is_bot(self):
        return bool(self.data.get("website"))


class ActivationForm(forms.Form):
    """The password of the new account, checked by the project's password validators."""

    new_password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=_("Ripeti la password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, customer, email, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer, self.email = customer, email
        self.fields["new_password1"].help_text = password_validation.password_validators_help_text_html()
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Attiva l'account"), css_class="w-100"))

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", _("Le due password non coincidono."))
        elif first:
            try:
                registration.validate_activation_password(
                    password=first, customer=self.customer, email=self.email
                )
            except forms.ValidationError as error:
                self.add_error("new_password1", error)
        return cleaned
