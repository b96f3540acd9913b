"""TAXII server models (collections, status resources)."""
