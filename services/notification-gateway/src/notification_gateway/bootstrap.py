"""The composition root: SMTP, FCM, the Redis stream and ticket-service's receipts wired to the
consumer and the delivery job."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from servicekit.app import Runtime, ServiceParts, build_app
from servicekit.errors import DomainErrorMap
from servicekit.jobs import PeriodicJob
from servicekit.listen import Listener
from servicekit.logs import register_secret

from notification_gateway.adapters.email import SmtpMailer, render_email
from notification_gateway.adapters.metrics import (
    CountedMailer,
    CountedPush,
    CountedStream,
    refresh_delivery_backlog,
)
from notification_gateway.adapters.push import FcmClient
from notification_gateway.adapters.receipts import ReceiptFetcher
from notification_gateway.adapters.repository import (
    WAKE_CHANNEL,
    SqlNotificationLog,
    pooled_delivery_logs,
)
from notification_gateway.domain.notifications import DeviceNotFound, DeviceTokenTaken
from notification_gateway.entrypoints.consumer import notification_consumer
from notification_gateway.entrypoints.http import router
from notification_gateway.entrypoints.jobs import DeliveryJob
from notification_gateway.service_layer.delivery import DeliveryPolicy, Dispatcher
from notification_gateway.service_layer.fanout import StreamHub
from notification_gateway.service_layer.handlers import RecordingPolicy
from notification_gateway.settings import NotificationSettings

DOMAIN_ERRORS: DomainErrorMap = {
    DeviceNotFound: (404, "device_not_found"),
    DeviceTokenTaken: (409, "device_token_taken"),
}


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    settings = settings or NotificationSettings()
    smtp_password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    register_secret(smtp_password)
    register_secret(settings.fcm_access_token.get_secret_value())

    @asynccontextmanager
    async def setup(app: FastAPI, runtime: Runtime) -> AsyncIterator[ServiceParts]:
        stream = CountedStream(
            runtime.redis, maxlen=settings.stream_maxlen, ttl_seconds=settings.stream_ttl_seconds
        )
        app.state.stream = stream
        hub = StreamHub(stream)
        app.state.hub = hub
        push = (
            FcmClient(
                endpoint=settings.fcm_endpoint,
                project_id=settings.fcm_project_id,
                access_token=settings.fcm_access_token.get_secret_value(),
                timeout=settings.fcm_timeout_seconds,
            )
            if settings.fcm_endpoint
            else None
        )
        smtp = SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            tls=settings.smtp_tls,
            username=settings.smtp_username,
            password=smtp_password,
            timeout=settings.smtp_timeout_seconds,
        )
        receipts = ReceiptFetcher(settings)
        dispatcher = Dispatcher(
            pooled_delivery_logs(runtime.pool),
            mailer=CountedMailer(smtp),
            render_email=render_email,
            push=CountedPush(push) if push is not None else None,
            stream=stream,
            receipts=receipts,
            policy=DeliveryPolicy(
                batch_size=settings.delivery_batch_size,
                max_attempts=settings.delivery_max_attempts,
                retry_base_seconds=settings.delivery_retry_base_seconds,
                retry_max_seconds=settings.delivery_retry_max_seconds,
                lease_seconds=settings.delivery_lease_seconds,
                mail_from=settings.mail_from,
            ),
        )
        listener = Listener(
            settings.database_url.get_secret_value(),
            channel=WAKE_CHANNEL,
            on_notify=lambda _payload: dispatcher.wake.set(),
        )
        job = DeliveryJob(
            dispatcher, listener=listener, poll_seconds=settings.delivery_poll_seconds
        )
        policy = RecordingPolicy(
            default_language=settings.default_language, push_enabled=push is not None
        )
        try:
            yield ServiceParts(
                consumers=[notification_consumer(policy, notification_log=SqlNotificationLog)],
                jobs=[
                    job.periodic(),
                    # Each worker fans out to the live streams it holds itself.
                    PeriodicJob("stream-fanout", 0.0, hub.run_once, single_flight=False),
                ],
                metrics=[refresh_delivery_backlog],
            )
        finally:
            await dispatcher.drain(grace_seconds=5.0)
            await listener.aclose()
            await smtp.aclose()
            await receipts.aclose()
            if push is not None:
                await push.aclose()

    return build_app(
        settings,
        title="notification-gateway",
        routers=[router],
        migrations=Path(__file__).parent / "migrations",
        setup=setup,
        domain_errors=DOMAIN_ERRORS,
    )
