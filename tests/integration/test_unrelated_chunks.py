"""With k above the number of chunks, dense retrieval used to return everything down to a score of -0.001: a chunk
unrelated in meaning was shown (and sent) as a "retrieved snippet". Only chunks with a positive cosine are matches."""

from playground import RetrievalOptions


def test_dense_retrieval_never_returns_a_chunk_with_a_non_positive_score(pg):
    pid = pg.people.create_profile("Vera")["id"]
    texts = ["The sourdough starter needs feeding twice a day with rye flour and warm water.",
             "Quarterly tax filings for the bakery are due at the end of March.",
             "Convolutional networks learn filters that detect edges in images.",
             "My grandmother's garden had foxgloves, hollyhocks and a crooked pear tree.",
             "Ferries to the island stop running when the wind exceeds force eight."]
    for t in texts:
        pg.library.add_sample(pid, text=t)
    seen_low = False
    for query in ("gradient descent on matrices", "zzzz qqqq xxxx", "sourdough", "ferry timetable in winter"):
        for retriever in ("dense", "hybrid"):
            hits = pg.conversations.retrieve(pid, query, "user", RetrievalOptions(retriever, k=10))
            if retriever == "dense":
                assert all(h.score > 0 for h in hits), [(h.text[:30], h.score) for h in hits]
                seen_low = seen_low or len(hits) < len(texts)
            assert all(h.scores.get("dense", 1) > 0 for h in hits)
    assert seen_low, "some query left unrelated chunks out (else this test proves nothing)"
