"""The web layer: the Gradio page, a thin shell over the public ``Coach`` API. May import: everything below it.

`serve` starts it, `app` lays it out and wires Gradio to the `Coach` API, the views run the
buttons, `render` and `render_knowledge` turn results into what the page shows.

Importing this package does not import Gradio (its modules do), but it turns Gradio's analytics off first,
so no module of the page can phone home whichever is imported first.
"""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
