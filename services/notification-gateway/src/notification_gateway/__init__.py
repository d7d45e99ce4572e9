"""notification-gateway: ticket and payment events become e-mail, push and a live stream."""
