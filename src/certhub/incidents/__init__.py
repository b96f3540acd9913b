"""Cross-border incidents, coordination requests between organisations, and their clocks."""
