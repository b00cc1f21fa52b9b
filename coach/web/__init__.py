"""The web page: `app` wires Gradio to the `Coach` API, `render` turns results into what the page shows.

Importing this package does not import Gradio; `coach.web.app` does (the only place allowed to).
"""
