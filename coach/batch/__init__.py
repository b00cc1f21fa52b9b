"""The batch layer: files of replies in, results out, resume by id, agreement with human scores; two engines
(threads in this process, ``run``; Ray Data on one machine or a cluster, ``ray_engine``).

May import: the core, ``coach.knowledge`` and ``coach.judging`` (a row is judged by a callable it is given).
"""
