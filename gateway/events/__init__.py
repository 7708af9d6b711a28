"""The event bus domain events travel on: in this process by default, across processes through Redis
pub/sub when configured. Subscriptions, caches and the read model listen here."""
