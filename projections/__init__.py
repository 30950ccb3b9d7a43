"""The read side of accord: folds over the signed entries (obligations, statements, ...)."""
