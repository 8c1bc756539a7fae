"""Read the JSON a widget's static HTML carries (its JS module and state), for the widget tests."""

import json
import re

PAYLOAD = re.compile(r'<script type="application/json" id="[^"]+">(.*?)</script>', re.S)


def page_payload(html: str) -> dict:
    """The ``{"esm": ..., "css": ..., "state": ...}`` payload of the first widget in ``html``."""
    return json.loads(PAYLOAD.search(html).group(1))
