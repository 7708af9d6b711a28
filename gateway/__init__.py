"""Serving the schema: the ASGI app (`app`), one process's parts (`process`), the CLI and settings,
and one package per concern: transport, protections, identity, caching, events, compiled,
upstreams, running (docs/architecture.md says what goes where)."""
