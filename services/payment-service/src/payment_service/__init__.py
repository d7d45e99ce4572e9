"""payment-service: Midtrans Snap payments, verified notifications, payment events, refunds."""
