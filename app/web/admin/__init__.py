"""The Support page, whichever admin hosts it: its JSON API (support, insights,
exports), who may call it (auth), and the documents every host renders (pages)."""
