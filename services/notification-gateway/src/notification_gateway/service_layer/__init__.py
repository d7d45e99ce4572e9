"""What happens when an event arrives and when a delivery is due."""
