"""Code shared by the Springboard services: settings, topics, messages, broker and database helpers."""
