"""Portal: a customer's own notification choices (which e-mails they get)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from erpcare.channels.forms_portal import CustomerPreferenceForm
from erpcare.channels.preferences import preferences_for, save_preferences
from erpcare.channels.rules import CUSTOMER_EVENTS
from erpcare.core.errors import ActionError
from erpcare.tickets.views.common import current_user
from erpcare.tickets.views.portal import portal_view


@portal_view("channels:preferences")
def preferences(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    saved = preferences_for(user)
    status = 200
    if request.method == "POST":
        form = CustomerPreferenceForm(request.POST)
        status = 400
        if form.is_valid():
            # Events a customer never gets stay as they were (muting them means nothing).
            kept = [name for name in saved.muted_events if name not in CUSTOMER_EVENTS]
            try:
                save_preferences(
                    user,
                    user,
                    email_enabled=form.cleaned_data["email_enabled"],
                    muted_events=kept + list(form.cleaned_data["muted_events"]),
                )
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                messages.success(request, _("Your e-mail choices are saved."))
                return redirect("portal_notifications:preferences")
    else:
        form = CustomerPreferenceForm(
            initial={
                "email_enabled": saved.email_enabled,
                "muted_events": [n for n in saved.muted_events if n in CUSTOMER_EVENTS],
            }
        )
    return render(request, "channels/portal/preferences.html", {"form": form}, status=status)
