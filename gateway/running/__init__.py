"""Running the gateway as a service: one process under uvicorn (and draining it), N processes behind
one port, the background work a process starts (outbox delivery, reservation sweeps, webhooks out),
and what an operator reads (logs, Prometheus metrics, OpenTelemetry traces)."""
