"""The LLM layer: the one door to a language model (client, embedded server and its weights, JSON and streamed text).

May import: the core. Only ``coach.llm.client`` imports ``openai`` / ``langchain``.
"""
