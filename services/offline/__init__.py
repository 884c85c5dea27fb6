"""Springboard's rules run offline, in one process: the replay of an input stream and the
evaluation of rankings against what happened. Not a service: it uses ingest's and the
recommender's code together, and no service imports it."""
