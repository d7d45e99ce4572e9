"""Adapters: PostgreSQL repositories and the Midtrans HTTP client."""
