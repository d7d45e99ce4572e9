"""A development mail sink: an SMTP server that keeps every message and shows them over HTTP."""
