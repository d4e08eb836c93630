"""The delivery runner: claiming, retries with back-off, giving up, the attempt log,
workers that die, two workers at once, and the admin's retry / cancel / test buttons."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, connections

from erpcare.audit.models import AuditEntry
from erpcare.channels import delivery as runner
from erpcare.channels.delivery import (
    backoff,
    cancel,
    deliver_due,
    deliver_one,
    retry_now,
    send_test,
)
from erpcare.channels.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    Destination,
    Mailbox,
)
from erpcare.channels.tests.smtp_server import (
    SmtpServer,
    mail_delivery,
    smtp_server_fixture,  # noqa: F401  (the smtp_server fixture)
)
from erpcare.channels.transports import SendResult, _registry, register
from erpcare.core import clock
from erpcare.core.errors import Conflict, NotAllowed
from erpcare.tickets.services.actions import create_ticket


@pytest.fixture
def ticket(cast: Any) -> Any:
    return create_ticket(
        cast.lina, title="采购订单审批流卡住", organization=cast.acme, requester=cast.alice,
        team=cast.l1_desk, priority=1,
    )  # fmt: skip


@pytest.fixture
def support(smtp_server: SmtpServer) -> Mailbox:
    return Mailbox.objects.create(
        name="Support", email="support@erpcare.example", imap_host="127.0.0.1",
        imap_username="support", smtp_host="127.0.0.1", smtp_port=smtp_server.port,
        smtp_security="none", created_at=clock.now(),
    )  # fmt: skip


def make_due(delivery: Delivery) -> None:
    """Let the back-off pass."""
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=clock.now() - timedelta(seconds=1)
    )


class Crashing:
    """A transport with a bug: the runner must log it and go on with the next delivery."""

    channel = "crash-test"

    def render(self, delivery: Delivery) -> dict[str, object]:
        return {"body": "x"}

    def send(self, delivery: Delivery) -> SendResult:
        raise RuntimeError("transport bug: list index out of range")


@pytest.fixture
def crashing() -> Any:
    transport = register(Crashing())
    yield transport
    _registry.pop(transport.channel, None)


@pytest.mark.django_db
class TestRetries:
    def test_a_451_is_retried_later_with_the_same_message(
        self, cast: Any, ticket: Any, support: Mailbox, smtp_server: SmtpServer
    ) -> None:
        smtp_server.refuse_next(1, "451 4.3.0 Mailbox busy, try again later")
        delivery = mail_delivery(ticket, "ticket.assigned", recipient=cast.lina)

        before = clock.now()
        assert deliver_due() == {"claimed": 1, "sent": 0, "retry": 1, "dead": 0, "lost": 0}
        delivery.refresh_from_db()
        assert delivery.state == DeliveryState.RETRY
        assert delivery.attempts == 1
        assert "451 4.3.0 Mailbox busy" in delivery.last_error
        wait = delivery.next_attempt_at - before
        assert timedelta(seconds=26) < wait < timedelta(seconds=34)
        message_id = delivery.payload["headers"]["Message-ID"]

        assert deliver_due()["claimed"] == 0  # not due yet
        make_due(delivery)
        assert deliver_due()["sent"] == 1

        delivery.refresh_from_db()
        assert delivery.state == DeliveryState.SENT
        assert delivery.sent_at is not None
        assert delivery.locked_until is None
        [received] = smtp_server.messages
        assert received.message["Message-ID"] == message_id
        first, second = DeliveryAttempt.objects.filter(delivery=delivery).order_by("id")
        assert (first.ok, first.status_code) == (False, 451)
        assert first.response == "451 4.3.0 Mailbox busy, try again later"
        assert (second.ok, second.status_code, second.error) == (True, 250, "")
        assert second.duration_ms >= 0

    def test_a_550_gives_up_at_once(
        self, cast: Any, ticket: Any, support: Mailbox, smtp_server: SmtpServer
    ) -> None:
        smtp_server.refuse_next(1, "550 5.1.1 No such user here")
        delivery = deliver_one(mail_delivery(ticket, "ticket.assigned", recipient=cast.lina).pk)
        assert delivery.state == DeliveryState.DEAD
        assert delivery.attempts == 1
        assert delivery.last_error == "550 5.1.1 No such user here"
        make_due(delivery)
        assert deliver_due()["claimed"] == 0
        assert smtp_server.handler.data_commands == 1

    def test_after_the_last_allowed_try_it_is_dead(
        self, cast: Any, ticket: Any, support: Mailbox, smtp_server: SmtpServer, settings: Any
    ) -> None:
        settings.ERPCARE_DELIVERY_MAX_ATTEMPTS = 3
        smtp_server.refuse_next(5, "421 4.7.0 Too many connections")
        delivery = mail_delivery(ticket, "ticket.assigned", recipient=cast.lina)
        states = []
        for _ in range(4):
            make_due(delivery)
            deliver_due()
            delivery.refresh_from_db()
            states.append(delivery.state)
        assert states == ["retry", "retry", "dead", "dead"]
        assert delivery.attempts == 3
        assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 3
        assert smtp_server.handler.data_commands == 3

    def test_nobody_listening_is_retryable(self, cast: Any, ticket: Any) -> None:
        closed = SmtpServer()  # a free port, never started
        Mailbox.objects.create(
            name="Support", email="support@erpcare.example", imap_host="127.0.0.1",
            imap_username="s", smtp_host="127.0.0.1", smtp_port=closed.port,
            smtp_security="none", created_at=clock.now(),
        )  # fmt: skip
        delivery = deliver_one(mail_delivery(ticket, "ticket.assigned", recipient=cast.lina).pk)
        assert delivery.state == DeliveryState.RETRY
        assert "ConnectionRefusedError" in delivery.last_error

    def test_back_off_doubles_and_is_capped(self) -> None:
        base = settings.ERPCARE_DELIVERY_BACKOFF_SECONDS
        cap = settings.ERPCARE_DELIVERY_BACKOFF_MAX_SECONDS
        for attempts, expected in ((1, base), (2, 2 * base), (3, 4 * base), (30, cap)):
            seconds = backoff(attempts).total_seconds()
            assert 0.9 * expected <= seconds <= 1.1 * expected, attempts


@pytest.mark.django_db
class TestRunnerIsRobust:
    def test_a_transport_that_raises_is_a_failed_try_not_a_crash(
        self, cast: Any, ticket: Any, support: Mailbox, smtp_server: SmtpServer, crashing: Any
    ) -> None:
        hook = Destination.objects.create(
            kind="webhook", name="ERP bridge", url="http://127.0.0.1:9/", created_at=clock.now()
        )
        broken = Delivery.objects.create(
            channel="crash-test", destination=hook, next_attempt_at=clock.now(),
            created_at=clock.now(),
        )  # fmt: skip
        mail = mail_delivery(ticket, "ticket.assigned", recipient=cast.lina)

        counts = deliver_due()

        assert (counts["retry"], counts["sent"]) == (1, 1)
        broken.refresh_from_db()
        assert broken.state == DeliveryState.RETRY
        assert broken.last_error == "RuntimeError: transport bug: list index out of range"
        assert broken.payload == {"body": "x"}
        hook.refresh_from_db()
        assert hook.last_failure_at is not None
        assert hook.last_error == broken.last_error
        assert Delivery.objects.get(pk=mail.pk).state == DeliveryState.SENT

    def test_a_delivery_whose_worker_died_is_taken_again(
        self, cast: Any, ticket: Any, support: Mailbox, smtp_server: SmtpServer
    ) -> None:
        delivery = mail_delivery(ticket, "ticket.assigned", recipient=cast.lina)
        now = clock.now()
        Delivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.SENDING, locked_until=now + timedelta(seconds=60)
        )
        assert deliver_due()["claimed"] == 0  # its worker may still be sending
        Delivery.objects.filter(pk=delivery.pk).update(locked_until=now - timedelta(seconds=1))

        assert deliver_due()["sent"] == 1

        delivery.refresh_from_db()
        assert delivery.state == DeliveryState.SENT
        assert delivery.attempts == 1  # the lost try counts
        lost, sent = DeliveryAttempt.objects.filter(delivery=delivery).order_by("id")
        assert not lost.ok
        assert "stopped while sending" in lost.error
        assert sent.ok
        assert len(smtp_server.messages) == 1

    def test_a_message_that_keeps_killing_workers_is_given_up(
        self, cast: Any, ticket: Any, support: Mailbox, smtp_server: SmtpServer, settings: Any
    ) -> None:
        settings.ERPCARE_DELIVERY_MAX_ATTEMPTS = 2
        delivery = mail_delivery(ticket, "ticket.assigned", recipient=cast.lina)
        Delivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.SENDING,
            attempts=1,
            locked_until=clock.now() - timedelta(seconds=1),
        )
        assert deliver_due()["sent"] == 0
        delivery.refresh_from_db()
        assert (delivery.state, delivery.attempts) == (DeliveryState.DEAD, 2)
        assert smtp_server.messages == []

    def test_a_cancel_during_sending_wins(
        self, cast: Any, ticket: Any, support: Mailbox, smtp_server: SmtpServer
    ) -> None:
        delivery = mail_delivery(ticket, "ticket.assigned", recipient=cast.lina)
        claimed = runner._claim(delivery.pk, runner._due(clock.now()))
        assert claimed is not None
        cancel(cast.mona, delivery)
        runner._process(*claimed)
        delivery.refresh_from_db()
        assert delivery.state == DeliveryState.CANCELLED
        assert DeliveryAttempt.objects.filter(delivery=delivery, ok=True).count() == 1

    def test_held_and_finished_deliveries_are_left_alone(
        self, cast: Any, ticket: Any, support: Mailbox, smtp_server: SmtpServer
    ) -> None:
        for state in ("held", "sent", "dead", "cancelled"):
            d = mail_delivery(ticket, "ticket.assigned", recipient=cast.lina)
            Delivery.objects.filter(pk=d.pk).update(state=state)
            assert deliver_one(d.pk).state == state
        assert deliver_due()["claimed"] == 0
        assert smtp_server.messages == []


@pytest.mark.django_db
class TestAdminActions:
    def dead(self, cast: Any, ticket: Any) -> Delivery:
        delivery = mail_delivery(ticket, "ticket.assigned", recipient=cast.lina)
        Delivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.DEAD, attempts=8, last_error="550 no"
        )
        delivery.refresh_from_db()
        return delivery

    def test_agents_may_not_retry_or_cancel(self, cast: Any, ticket: Any) -> None:
        delivery = self.dead(cast, ticket)
        for person in (cast.lina, cast.eric, cast.alice, cast.audra):
            with pytest.raises(NotAllowed):
                retry_now(person, delivery)
            with pytest.raises(NotAllowed):
                cancel(person, delivery)
        delivery.refresh_from_db()
        assert (delivery.state, delivery.attempts) == (DeliveryState.DEAD, 8)
        assert not AuditEntry.objects.filter(action__startswith="channels.delivery").exists()

    def test_retry_now_sends_it_again_with_fresh_tries(
        self, cast: Any, ticket: Any, support: Mailbox, smtp_server: SmtpServer
    ) -> None:
        delivery = self.dead(cast, ticket)
        retried = retry_now(cast.mona, delivery)
        assert (retried.state, retried.attempts) == (DeliveryState.PENDING, 0)
        entry = AuditEntry.objects.get(action="channels.delivery.retried")
        assert (entry.actor, entry.target_id) == (cast.mona, str(delivery.pk))
        assert entry.data["from_state"] == "dead"
        assert deliver_due()["sent"] == 1
        with pytest.raises(Conflict):
            retry_now(cast.adam, Delivery.objects.get(pk=delivery.pk))

    def test_cancel_stops_a_waiting_delivery(
        self, cast: Any, ticket: Any, support: Mailbox, smtp_server: SmtpServer
    ) -> None:
        delivery = mail_delivery(ticket, "ticket.assigned", recipient=cast.lina)
        assert cancel(cast.adam, delivery).state == DeliveryState.CANCELLED
        assert AuditEntry.objects.filter(
            action="channels.delivery.cancelled", target_id=str(delivery.pk)
        ).exists()
        assert deliver_due()["claimed"] == 0
        assert smtp_server.messages == []
        with pytest.raises(Conflict):
            cancel(cast.adam, delivery)
        with pytest.raises(Conflict):
            retry_now(cast.adam, delivery)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
def test_two_workers_never_send_one_delivery_twice(
    cast: Any, support: Mailbox, smtp_server: SmtpServer
) -> None:
    ticket = create_ticket(
        cast.lina, title="并发发送", organization=cast.acme, requester=cast.alice
    )
    deliveries = [mail_delivery(ticket, "ticket.assigned", recipient=cast.lina) for _ in range(30)]
    start = threading.Barrier(3)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            results.append(deliver_due())
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sum(r["sent"] for r in results) == 30
    assert len(smtp_server.messages) == 30
    ids = {m.message["Message-ID"] for m in smtp_server.messages}
    assert len(ids) == 30
    for delivery in deliveries:
        delivery.refresh_from_db()
        assert delivery.state == DeliveryState.SENT
        assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 1


# ---------------------------------------------------------------------------
# The test button of a robot or webhook, with the real webhook transport
# ---------------------------------------------------------------------------


@pytest.fixture
def receiver() -> Any:
    from erpcare.channels.tests.http_receiver import Receiver

    server = Receiver(secrets={"webhook": "whsec-test"})
    yield server
    server.close()


@pytest.fixture
def hook(cast: Any, receiver: Any) -> Destination:
    return Destination.objects.create(
        kind="webhook", name="ERP bridge", url=receiver.url("/webhook/erp-sync"),
        secret="whsec-test", language="zh-hans", allow_private_network=True,
        created_at=clock.now(),
    )  # fmt: skip


@pytest.mark.django_db
class TestSendTest:
    def test_a_test_event_goes_to_this_destination_only(
        self, cast: Any, hook: Destination, receiver: Any
    ) -> None:
        delivery = send_test(cast.mona, hook)

        assert delivery.state == DeliveryState.SENT
        [request] = receiver.requests
        assert request.problems == []  # signed as the receiver expects
        assert request.json["event"] == "test"
        assert request.json["data"]["test"] is True
        assert request.json["data"]["actor"]["name"] == "Mona Sun"
        assert delivery.event is not None
        assert delivery.event.dispatched_at is not None  # the rules never see it
        assert Delivery.objects.filter(event=delivery.event).count() == 1
        hook.refresh_from_db()
        assert hook.last_success_at is not None
        assert AuditEntry.objects.filter(
            action="channels.destination.tested", actor=cast.mona, target_id=str(hook.pk)
        ).exists()

    def test_a_failing_receiver_shows_in_the_result(
        self, cast: Any, hook: Destination, receiver: Any
    ) -> None:
        receiver.fail_first(1)
        delivery = send_test(cast.adam, hook)
        assert delivery.state == DeliveryState.RETRY
        [attempt] = delivery.attempt_log.all()
        assert attempt.status_code == 500
        hook.refresh_from_db()
        assert hook.last_failure_at is not None

    def test_only_managers_and_admins(self, cast: Any, hook: Destination, receiver: Any) -> None:
        with pytest.raises(NotAllowed):
            send_test(cast.lina, hook)
        assert not Delivery.objects.exists()
        assert receiver.requests == []


# ---------------------------------------------------------------------------
# Digests: the dispatcher collects held P3 mail, the runner sends one message
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_digest_lists_the_held_events(
    cast: Any, support: Mailbox, smtp_server: SmtpServer
) -> None:
    from erpcare.channels.dispatch import release_held

    first = create_ticket(cast.lina, title="报表导出慢", organization=cast.acme, priority=3)
    second = create_ticket(cast.lina, title="打印模板错位", organization=cast.acme, priority=3)
    held = []
    for t in (first, second):
        d = mail_delivery(t, "ticket.assigned", recipient=cast.eric)
        held.append(d)
    note = mail_delivery(first, "ticket.note", recipient=cast.eric)
    Delivery.objects.filter(pk__in=[d.pk for d in [*held, note]]).update(
        state=DeliveryState.HELD, payload={"digest": True},
        next_attempt_at=clock.now() - timedelta(minutes=1),
    )  # fmt: skip

    assert release_held()["digests"] == 1
    counts = deliver_due()

    assert counts["sent"] == 1
    [received] = smtp_server.messages
    text = received.message.get_body(("plain",)).get_content()
    assert received.rcpt_tos == ["eric@erpcare.example"]
    assert f"[{first.number}]" in text
    assert f"[{second.number}]" in text
    assert "报表导出慢" in text
    assert "Internal note added" in text or "内部备注" in text  # staff see notes in digests
