"""Shopify: OAuth and token exchange, session tokens, signed webhooks and app proxy
calls, the Admin GraphQL API (gql), and the adapter the web layer talks to."""
