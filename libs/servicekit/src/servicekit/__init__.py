"""The runtime every ticketing service shares, written once."""
