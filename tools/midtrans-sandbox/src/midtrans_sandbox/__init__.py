"""A local stand-in for Midtrans: Snap, Core API, signed HTTP notifications and a control API."""

__version__ = "1.0.0"
