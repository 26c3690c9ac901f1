"""Shopify's own routes: install and App Home (auth), the Support page documents inside
the Shopify admin (pages), the signed app proxy and the webhooks."""
