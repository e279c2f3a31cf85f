"""Internal PageRank, checked against a hand-computed graph."""

from __future__ import annotations

import numpy as np

from pipulate_seo.audit.graph import pagerank


def test_pagerank_of_a_small_graph():
    # 0 -> 1, 0 -> 2, 1 -> 2, 2 -> 0, and 3 links to 2 but nothing links to 3.
    sources = np.array([0, 0, 1, 2, 3])
    targets = np.array([1, 2, 2, 0, 2])
    rank = pagerank(sources, targets, 4)
    assert abs(rank.sum() - 1) < 1e-9
    assert rank[3] == min(rank) and abs(rank[3] - 0.15 / 4) < 1e-9  # only the random jump reaches it
    assert rank[2] > rank[0] > rank[1]


def test_dangling_pages_and_an_empty_graph():
    rank = pagerank(np.array([0]), np.array([1]), 2)  # 1 links nowhere: its rank is spread evenly
    assert abs(rank.sum() - 1) < 1e-9 and rank[1] > rank[0]
    assert pagerank(np.array([], dtype=int), np.array([], dtype=int), 0).size == 0
