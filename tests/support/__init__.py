"""What the tests stand on, shared through tests/conftest.py: services that must be
real under CI, a movable clock, installed shops, shoppers and signed requests,
streams, query counting, the browser stack and the Saleor stand-ins."""
