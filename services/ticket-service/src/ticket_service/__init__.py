"""ticket-service: ticketed events, tickets, purchase, activation from payments, check-in."""
