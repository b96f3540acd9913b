"""Incident pages: the list and triage queue, one incident and what users do on it, the
coordination requests, the timeliness charts and the public report form."""
