"""certhub: the platform a regional CERT runs to coordinate its member CERTs."""

__version__ = "0.1.0"
