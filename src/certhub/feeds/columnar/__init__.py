"""The columnar path of the pipeline: clean batches of line-per-record feeds as column frames.

A feed's bulk is well-formed lines in one fixed layout (URLhaus' country feeds are millions of
them). For such a parser (``Parser.columnar``) the input is read a batch of physical lines at a
time (``lines``); a batch whose every line is plainly well-formed is parsed, normalised and
written as columns of a polars frame, in Rust, with no Python object per event (``urlhaus``,
``frames``); any other batch (a malformed line, a defanged URL, an undecodable byte, ...) is
read again by the parser itself, item by item, and goes the event path. The columnar path only
accepts what it can prove gives the same findings as the event path (tests compare the two),
so the event path stays the reference for every rule.
"""
