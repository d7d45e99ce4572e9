"""PostgreSQL repositories, the payment-service client, the Redis rate limiter."""
