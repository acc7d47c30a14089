"""Product search: query texts and tokens, E5 embeddings, the FAISS and BM25 indexes, and the
hybrid ranking under graph filters that chat and the storefront's search box share."""
