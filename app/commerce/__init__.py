"""Commerce beside the chat: carts, which orders a conversation produced (attribution),
their revenue, Insights, and money as text. Knows nothing of Flask or of any platform;
each platform translates its payloads into the facts defined here."""
