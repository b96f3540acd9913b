"""TAXII 2.1: the server at /taxii2/ over intel's queries, and (in client/) scheduled pulls from
partners' TAXII servers."""
