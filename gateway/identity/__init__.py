"""Who is calling: bearer tokens (members', staff's, the gateway's own), partner API keys and the
Starlette authentication backend that turns a request's credentials into a Principal, and the
throttle on password guesses. What a principal may see is decided by the schema's permissions."""
