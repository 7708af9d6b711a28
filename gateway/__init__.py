"""Serving the schema: settings, the ASGI app, authentication, context, events, CLI."""
