"""Saleor: the app manifest and token registration, JWS-signed webhooks, Dashboard and
customer tokens, its GraphQL API (gql), checkout stamping, and the adapter."""
