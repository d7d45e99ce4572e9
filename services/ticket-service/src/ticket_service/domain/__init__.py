"""The ticket domain: pure rules, no framework, no driver."""
