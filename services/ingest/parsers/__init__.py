"""File parsers: each turns a producer's export into raw input messages, streaming.

A parser yields ``Parsed`` items (a message for an input topic, with where it came from)
and ``Problem`` items (a line or row it could not use, and why); it never raises on bad
content, so one unreadable card or row never costs the rest of the file.
"""
