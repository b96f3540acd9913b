"""Feed connectors in IntelMQ's shape: collectors fetch, parsers turn input into events, experts
enrich, classify, deduplicate and route them. Each is a small class with declared parameters."""
