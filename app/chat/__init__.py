"""The chat core: conversations and messages (the actions that store, then publish),
visitors and their sessions, the inbox, business hours, shop settings and privacy.
Knows nothing of Flask or of any store platform."""
