"""Adapters to the outside: PostgreSQL, SMTP, FCM, Redis streams, the QR image."""
