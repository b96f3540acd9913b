"""Notifications: in-app messages, email (PGP-encrypted where the contact has a key) and signed
webhooks, for every app that must tell people something."""
