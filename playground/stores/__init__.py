"""Where things are kept: SQLite (with its numbered migrations), the Chroma vector store, and the one map of where a
person's data lives, which deletion, export and the erasure check all read."""
