"""The judging layer: the learned critic (and its training), the critique pipeline, quotes and feedback.

May import: the core, ``coach.llm`` and ``coach.knowledge``.
"""
