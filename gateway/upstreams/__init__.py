"""The systems of record, seen from the running gateway: connecting the ones configuration names,
syncing their change feeds into the read model (one leader polls), the doorbell upstreams ring
(`POST /webhooks/<upstream>`), and how fresh each feed is for the warnings responses carry."""
