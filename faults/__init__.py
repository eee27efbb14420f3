"""The fault suite: a burst of events over HTTP with one fault injected, and what it cost."""
