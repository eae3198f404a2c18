"""Examples for the webhook receiver side (see ``docs/webhooks.md``)."""
