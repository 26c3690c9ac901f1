"""Store platforms: what Parley needs of one (port.py), and one package per platform
(shopify/, saleor/) that implements it. A new platform is a new package here."""
