"""TAXII client models (remote collections and their pull runs)."""
