"""Streams: persistent, at-least-once cursors over a dataset's comments (Re:infer's streams API)."""
