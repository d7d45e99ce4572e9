"""The payment domain: pure rules, no framework, no driver."""
