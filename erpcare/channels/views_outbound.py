"""Channel admin pages: overview, robots and webhooks, chat intakes, notification rules,
the delivery log, and every staff member's own notification preferences.

The admin pages are for support managers and administrators; for anybody else they do
not exist (404, like the desk for customers). Views only read forms and call
``admin_services``; an ActionError becomes the form's error (or a message) and nothing
changes. Secrets never travel back to the browser, except a new chat intake secret in the
one response that created it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from erpcare.channels import admin_services as svc
from erpcare.channels.forms_outbound import (
    ChatIntakeForm,
    DeliveryFilterForm,
    DestinationForm,
    PreferenceForm,
    RuleForm,
)
from erpcare.channels.models import (
    ChatIntake,
    ChatMessage,
    Delivery,
    Destination,
    NotificationPreference,
    NotificationRule,
)
from erpcare.channels.permissions import can_allow_private_network, can_manage_channels
from erpcare.core.errors import ActionError
from erpcare.tickets.views.common import (
    current_user,
    no_store,
    page_number,
    paginate,
    staff_view,
    view_for,
)

View = Callable[..., HttpResponseBase]


channel_admin_view = view_for(can_manage_channels)


# ---------------------------------------------------------------------------
# Overview
# ---------------------------------------------------------------------------


@channel_admin_view
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "channels/outbound/overview.html", {"o": svc.overview()})


# ---------------------------------------------------------------------------
# Robots and webhooks
# ---------------------------------------------------------------------------


@channel_admin_view
@require_GET
def destinations(request: HttpRequest) -> HttpResponse:
    rows = Destination.objects.select_related("organization", "team").order_by("name", "id")
    return render(request, "channels/outbound/destinations.html", {"destinations": rows})


def _destination_initial(destination: Destination) -> dict[str, Any]:
    return {
        "kind": destination.kind,
        "name": destination.name,
        "language": destination.language,
        "events": destination.events,
        "priorities": [str(p) for p in destination.priorities],
        "organization": destination.organization_id,
        "team": destination.team_id,
        "is_active": destination.is_active,
        "allow_private_network": destination.allow_private_network,
    }


def _render_destination(
    request: HttpRequest,
    destination: Destination | None,
    form: DestinationForm,
    *,
    status: int = 200,
    test: Delivery | None = None,
) -> HttpResponse:
    context: dict[str, Any] = {"destination": destination, "form": form, "test": test}
    if destination is not None:
        context["deliveries"] = list(
            destination.deliveries.select_related("event").order_by("-id")[:20]
        )
        context["secret_hint"] = svc.mask_secret(destination.secret)
    if test is not None:
        context["test_attempts"] = list(test.attempt_log.order_by("-id")[:1])
    return no_store(
        render(request, "channels/outbound/destination_form.html", context, status=status)
    )


def _destination_form(request: HttpRequest, destination: Destination | None, **kw: Any) -> Any:
    return DestinationForm(
        editing=destination is not None,
        may_allow_private=can_allow_private_network(current_user(request)),
        **kw,
    )


def _save_destination(request: HttpRequest, destination: Destination | None) -> HttpResponse:
    form = _destination_form(request, destination, data=request.POST)
    if not form.is_valid():
        return _render_destination(request, destination, form, status=400)
    data = form.cleaned_data
    try:
        saved = svc.save_destination(
            current_user(request),
            destination,
            kind=data["kind"],
            name=data["name"],
            url=data["url"],
            secret=data["secret"],
            clear_secret=data.get("clear_secret", False),
            language=data["language"],
            events=data["events"],
            priorities=data["priorities"],
            organization=data["organization"],
            team=data["team"],
            is_active=data["is_active"],
            allow_private_network=data.get("allow_private_network"),
        )
    except ActionError as exc:
        form.add_error(None, exc.message)
        fresh = Destination.objects.get(pk=destination.pk) if destination else None
        return _render_destination(request, fresh, form, status=exc.status_code)
    messages.success(request, _("“%(name)s” saved.") % {"name": saved.name})
    return redirect("channels:destination", destination_id=saved.pk)


@channel_admin_view
def destination_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save_destination(request, None)
    form = _destination_form(
        request, None, initial={"is_active": True, "language": request.LANGUAGE_CODE}
    )
    return _render_destination(request, None, form)


@channel_admin_view
def destination_edit(request: HttpRequest, destination_id: int) -> HttpResponse:
    destination = get_object_or_404(Destination, pk=destination_id)
    if request.method == "POST":
        return _save_destination(request, destination)
    form = _destination_form(request, destination, initial=_destination_initial(destination))
    return _render_destination(request, destination, form)


@channel_admin_view
@require_POST
def destination_test(request: HttpRequest, destination_id: int) -> HttpResponse:
    """Send a test message now and show what the receiver answered, on the same page."""
    destination = get_object_or_404(Destination, pk=destination_id)
    form = _destination_form(request, destination, initial=_destination_initial(destination))
    try:
        delivery = svc.send_test(current_user(request), destination)
    except ActionError as exc:
        messages.error(request, exc.message)
        return _render_destination(request, destination, form, status=exc.status_code)
    fresh = Destination.objects.get(pk=destination.pk)
    return _render_destination(request, fresh, form, test=delivery)


@channel_admin_view
@require_POST
def destination_delete(request: HttpRequest, destination_id: int) -> HttpResponse:
    destination = get_object_or_404(Destination, pk=destination_id)
    svc.delete_destination(current_user(request), destination)
    messages.success(request, _("“%(name)s” deleted.") % {"name": destination.name})
    return redirect("channels:destinations")


# ---------------------------------------------------------------------------
# Chat intakes
# ---------------------------------------------------------------------------


@channel_admin_view
@require_GET
def chat_intakes(request: HttpRequest) -> HttpResponse:
    rows = ChatIntake.objects.select_related("organization", "team").order_by("name", "id")
    return render(request, "channels/outbound/chat_intakes.html", {"intakes": rows})


def _secret_page(request: HttpRequest, intake: ChatIntake, secret: str) -> HttpResponse:
    """The one response that shows a chat intake's secret; nothing caches it."""
    context = {
        "intake": intake,
        "secret": secret,
        "endpoint": svc.chat_endpoint(intake),
        "curl": svc.chat_curl_example(intake, secret),
    }
    return no_store(render(request, "channels/outbound/chat_secret.html", context))


@channel_admin_view
def chat_intake_new(request: HttpRequest) -> HttpResponse:
    form = ChatIntakeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                intake, secret = svc.create_chat_intake(
                    current_user(request),
                    slug=data["slug"],
                    name=data["name"],
                    organization=data["organization"],
                    team=data["team"],
                )
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                return _secret_page(request, intake, secret)
    return render(
        request, "channels/outbound/chat_intake.html", {"form": form, "intake": None}, status=status
    )


def _chat_messages(intake: ChatIntake) -> list[ChatMessage]:
    return list(
        ChatMessage.objects.filter(intake=intake)
        .select_related("ticket")
        .defer("body")
        .order_by("-id")[:50]
    )


@channel_admin_view
def chat_intake_edit(request: HttpRequest, intake_id: int) -> HttpResponse:
    intake = get_object_or_404(ChatIntake, pk=intake_id)
    status = 200
    if request.method == "POST":
        form = ChatIntakeForm(request.POST, editing=True)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                svc.update_chat_intake(
                    current_user(request),
                    intake,
                    name=data["name"],
                    organization=data["organization"],
                    team=data["team"],
                    is_active=data["is_active"],
                )
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                messages.success(request, _("“%(name)s” saved.") % {"name": data["name"]})
                return redirect("channels:chat_intake", intake_id=intake.pk)
    else:
        form = ChatIntakeForm(
            editing=True,
            initial={
                "name": intake.name,
                "organization": intake.organization_id,
                "team": intake.team_id,
                "is_active": intake.is_active,
            },
        )
    context = {
        "form": form,
        "intake": intake,
        "endpoint": svc.chat_endpoint(intake),
        "chat_messages": _chat_messages(intake),
    }
    return render(request, "channels/outbound/chat_intake.html", context, status=status)


@channel_admin_view
@require_POST
def chat_intake_rotate(request: HttpRequest, intake_id: int) -> HttpResponse:
    intake = get_object_or_404(ChatIntake, pk=intake_id)
    intake, secret = svc.rotate_chat_secret(current_user(request), intake)
    return _secret_page(request, intake, secret)


@channel_admin_view
@require_POST
def chat_intake_active(request: HttpRequest, intake_id: int) -> HttpResponse:
    intake = get_object_or_404(ChatIntake, pk=intake_id)
    active = request.POST.get("active") == "1"
    svc.set_chat_intake_active(current_user(request), intake, active=active)
    if active:
        messages.success(request, _("“%(name)s” accepts messages again.") % {"name": intake.name})
    else:
        messages.success(request, _("“%(name)s” is deactivated.") % {"name": intake.name})
    return redirect("channels:chat_intake", intake_id=intake.pk)


@channel_admin_view
@require_POST
def chat_message_reprocess(request: HttpRequest, intake_id: int, message_id: int) -> HttpResponse:
    message = get_object_or_404(ChatMessage, pk=message_id, intake_id=intake_id)
    try:
        done = svc.reprocess_chat_message(current_user(request), message)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("The message was processed again: %(state)s.") % {"state": done.get_state_display()},
        )
    return redirect("channels:chat_intake", intake_id=intake_id)


# ---------------------------------------------------------------------------
# Notification rules
# ---------------------------------------------------------------------------


@channel_admin_view
@require_GET
def rules(request: HttpRequest) -> HttpResponse:
    rows = (
        NotificationRule.objects.select_related("organization", "team")
        .prefetch_related("users", "destinations")
        .order_by("position", "id")
    )
    return render(request, "channels/outbound/rules.html", {"rules": rows})


def _rule_initial(rule: NotificationRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "position": rule.position,
        "is_active": rule.is_active,
        "events": rule.events,
        "priorities": [str(p) for p in rule.priorities],
        "organization": rule.organization_id,
        "team": rule.team_id,
        "recipient_roles": rule.recipient_roles,
        "users": [u.pk for u in rule.users.all()],
        "channels": rule.channels,
        "destinations": [d.pk for d in rule.destinations.all()],
        "include_actor": rule.include_actor,
    }


def _save_rule(request: HttpRequest, rule: NotificationRule | None) -> HttpResponse:
    form = RuleForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            saved = svc.save_rule(
                current_user(request),
                rule,
                name=data["name"],
                position=data["position"],
                is_active=data["is_active"],
                events=data["events"],
                priorities=data["priorities"],
                organization=data["organization"],
                team=data["team"],
                recipient_roles=data["recipient_roles"],
                users=data["users"],
                channels=data["channels"],
                destinations=data["destinations"],
                include_actor=data["include_actor"],
            )
        except ActionError as exc:
            form.add_error(None, exc.message)
            status = exc.status_code
        else:
            messages.success(request, _("Rule “%(name)s” saved.") % {"name": saved.name})
            return redirect("channels:rules")
    return render(
        request, "channels/outbound/rule_form.html", {"form": form, "rule": rule}, status=status
    )


@channel_admin_view
def rule_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save_rule(request, None)
    form = RuleForm(initial={"position": 100, "is_active": True, "channels": ["in_app"]})
    return render(request, "channels/outbound/rule_form.html", {"form": form, "rule": None})


@channel_admin_view
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(NotificationRule, pk=rule_id)
    if request.method == "POST":
        return _save_rule(request, rule)
    form = RuleForm(initial=_rule_initial(rule))
    return render(request, "channels/outbound/rule_form.html", {"form": form, "rule": rule})


@channel_admin_view
@require_POST
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(NotificationRule, pk=rule_id)
    svc.delete_rule(current_user(request), rule)
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect("channels:rules")


# ---------------------------------------------------------------------------
# Deliveries
# ---------------------------------------------------------------------------


def _filtered_deliveries(form: DeliveryFilterForm) -> QuerySet[Delivery]:
    rows = Delivery.objects.select_related("event", "destination", "recipient").defer(
        "payload", "destination__url", "destination__secret"
    )
    if not form.is_valid():
        return rows.order_by("-id")
    data = form.cleaned_data
    if data["state"]:
        rows = rows.filter(state=data["state"])
    if data["channel"]:
        rows = rows.filter(channel=data["channel"])
    if data["destination"]:
        rows = rows.filter(destination=data["destination"])
    if data["event"]:
        rows = rows.filter(event__name=data["event"])
    if data["day"]:
        # The day in the viewer's time zone, as a range the id-ordered scan can stop on.
        starts = timezone.make_aware(datetime.combine(data["day"], time.min))
        rows = rows.filter(created_at__gte=starts, created_at__lt=starts + timedelta(days=1))
    return rows.order_by("-id")


@channel_admin_view
@require_GET
def deliveries(request: HttpRequest) -> HttpResponse:
    form = DeliveryFilterForm(request.GET or None)
    rows = _filtered_deliveries(form)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": paginate(rows, page_number(request)),
        "query": query.urlencode(),
    }
    return render(request, "channels/outbound/deliveries.html", context)


def _get_delivery(delivery_id: int) -> Delivery:
    return get_object_or_404(
        Delivery.objects.select_related("event", "destination", "recipient"), pk=delivery_id
    )


@channel_admin_view
@require_GET
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = _get_delivery(delivery_id)
    context = {
        "delivery": delivery,
        "payload": svc.redacted_payload(delivery),
        "attempts": list(delivery.attempt_log.order_by("id")),
        "target": svc.delivery_target(delivery),
        "can_retry": delivery.state in svc.RETRYABLE_STATES,
        "can_cancel": delivery.state in svc.CANCELLABLE_STATES,
    }
    return no_store(render(request, "channels/outbound/delivery.html", context))


@channel_admin_view
@require_POST
def delivery_retry(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = _get_delivery(delivery_id)
    try:
        svc.retry_delivery(current_user(request), delivery)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Delivery #%(id)s was sent again.") % {"id": delivery.pk})
    return redirect("channels:delivery", delivery_id=delivery.pk)


@channel_admin_view
@require_POST
def delivery_cancel(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = _get_delivery(delivery_id)
    try:
        svc.cancel_delivery(current_user(request), delivery)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Delivery #%(id)s was cancelled.") % {"id": delivery.pk})
    return redirect("channels:delivery", delivery_id=delivery.pk)


# ---------------------------------------------------------------------------
# My notification preferences (every staff member)
# ---------------------------------------------------------------------------


def _preference_initial(preference: NotificationPreference | None) -> dict[str, Any]:
    preference = preference or NotificationPreference()
    return {
        "email_enabled": preference.email_enabled,
        "in_app_enabled": preference.in_app_enabled,
        "muted_events": preference.muted_events,
        "quiet_start": preference.quiet_start,
        "quiet_end": preference.quiet_end,
        "digest_low_priority": preference.digest_low_priority,
        "digest_hour": preference.digest_hour,
    }


@staff_view
def preferences(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    status = 200
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                svc.save_my_preferences(user, **form.cleaned_data)
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                messages.success(request, _("Your notification preferences are saved."))
                return redirect("channels:preferences")
    else:
        saved = NotificationPreference.objects.filter(user=user).first()
        form = PreferenceForm(initial=_preference_initial(saved))
    return render(
        request,
        "channels/outbound/preferences.html",
        {"form": form, "time_zone": user.time_zone},
        status=status,
    )
