"""The knowledge layer: guideline documents, their passages, versions and rubric links, the index and retrieval.

May import: the core and ``coach.llm``. Only ``coach.knowledge.index`` imports ``chromadb``.
"""
