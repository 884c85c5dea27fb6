"""Code shared by the services: settings, topics, messages, broker and database helpers."""
