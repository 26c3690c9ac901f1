"""Stand-ins for the platforms Parley talks to, for tests and `parley demo` only.

A fake Shopify and a fake Saleor that speak the real wire formats (HMACs, JWTs, JWS,
GraphQL shapes), their demo storefronts and Dashboard, and the demo that wires them to
Parley. Production code never imports this package: it reaches a stand-in only through
the seams `app.create_app` is handed (an HTTP transport, explicit development settings),
and production settings refuse those. Installed with the `demo` extra.
"""
