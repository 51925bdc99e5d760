"""Acting on what mining found: signed segment webhooks and exports for other tools."""
