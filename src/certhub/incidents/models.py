"""Incident models."""
