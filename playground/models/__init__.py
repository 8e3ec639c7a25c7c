"""The models: chat backends (Ollama, OpenAI-compatible servers, the embedded SmolLM2), choosing which one answers,
the queue that makes concurrent questions take turns, and the sentence-transformers embedder."""
