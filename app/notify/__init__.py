"""Nobody at the desk: e-mail and webhooks that carry a conversation beyond the chat.

Merchant alerts when a shopper writes and nobody is looking, the shopper's e-mail copy
of a reply they have not seen (with a link that resumes the thread on any device),
their e-mail replies back into the thread, and a signed webhook for the shop's own
tools. Everything sent passes the outbox (outbox.py): stored in the transaction that
decided to send it, delivered by a worker with retries, never twice.
"""
