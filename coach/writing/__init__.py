"""The writing layer: the words an agent reads beyond the verdict (suggested sentence, rewrite, answers).

May import: the core, ``coach.llm``, ``coach.knowledge`` and ``coach.judging``.
"""
