"""What an operation must pass before it runs, on both executors: document parsing and validation,
depth, alias and cost limits, persisted and trusted documents, introspection policy, rate limits per
caller, text the gateway can keep. `checks.Protections` builds them once from settings for both paths.
A new limit on what callers may ask goes here."""
