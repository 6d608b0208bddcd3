"""minigan's built-in ops, one file per family. ``minigan.functional`` re-exports their functions."""
