"""A person's writing library: reading uploads safely, chunking, embedding and storing samples, and keeping SQLite
and Chroma in agreement after a crash."""
