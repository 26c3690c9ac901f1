"""Saleor's own routes: the app protocol (manifest, token POST, webhooks) and the
Support page and extensions inside the Saleor Dashboard."""
