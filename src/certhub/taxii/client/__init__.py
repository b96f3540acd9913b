"""TAXII 2.1 client: scheduled pulls from remote collections into intel reports."""
