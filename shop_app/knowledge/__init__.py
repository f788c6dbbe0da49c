"""The shop's policies and FAQ entries, and finding the passage that answers an informational question
(BM25, both languages).
"""
