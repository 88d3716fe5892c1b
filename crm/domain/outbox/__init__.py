"""The outbox: one engine that delivers rows written by the domain (campaign deliveries, event
notifications, system mail; partner webhooks next), whatever they carry. See docs/architecture.md."""
