"""Route templates with named parameters (``/subscriptions/{subscriptionId}/...``): the lower-cased path the
frontend routes on, and a case-insensitive matcher that reads the parameters -- by name, never by position
-- and the matched text from an original-casing path or resource id."""

from __future__ import annotations

import re
from collections.abc import Mapping


class Template:
    _PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

    def __init__(self, template: str):
        self.template = template
        parts = self._PARAM.split(template)  # literal, name, literal, name, ...
        self.params = tuple(parts[1::2])
        self.path = "".join(p.lower() if i % 2 == 0 else "{" + p + "}" for i, p in enumerate(parts))
        rx = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts))
        self._rx = re.compile(rx, re.IGNORECASE)

    def match(self, path: str) -> tuple[dict[str, str], str] | None:
        """(parameters, matched prefix) of ``path``, original casing; None if it does not start so. A
        parameter matches one path segment."""
        m = self._rx.match(path)
        return (m.groupdict(), m.group(0)) if m else None

    def fill(self, params: Mapping[str, str]) -> str:
        """The template with ``params`` in place."""
        return self._PARAM.sub(lambda m: params[m[1]], self.template)


_TEMPLATES: dict[str, Template] = {}


def template(text: str) -> Template:
    """The compiled template of ``text`` (cached: routes and kinds ask for the same few)."""
    found = _TEMPLATES.get(text)
    if found is None:
        found = _TEMPLATES[text] = Template(text)
    return found
