"""Notification models (in-app notifications, webhooks and their deliveries)."""
