"""Instant answers: the shop's FAQ in the shopper's language, matched without a model
download, with a calibrated confidence; below the threshold, or when the shopper asks
for a person, complains or asks about their own order, the conversation is handed over.

The core of it has no Flask and no platform: `Assistant.reply` (assistant.py) is what
the chat calls after a shopper's message is stored; store.py and importer.py keep the
answers; decide.py holds the rules; matcher.py the retrieval behind a small interface.
"""
