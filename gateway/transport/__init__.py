"""How requests reach the gateway and answers leave it: GraphQL over HTTP (strawberry's view and the
compiled fast path's endpoint), websockets with grouped subscription fan-out, Server-Sent Events, the
plain ASGI middleware around them (request ids, header limits, CSRF, load shedding) and the headers of
the gateway's own pages. A new protocol or a new middleware goes here; what may run goes in
`gateway.protections`."""
