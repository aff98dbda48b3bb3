import json

from rest_framework import renderers


class RenderedJSON(bytes):
    """A body that JSONRenderer rendered earlier (a cached page of a list), to be sent as it is."""


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer, which sends a RenderedJSON body without encoding it again."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, RenderedJSON):
            if self.get_indent(accepted_media_type, renderer_context or {}) is None:
                return bytes(data)
            data = json.loads(data)  # indented: the browsable API, or "indent=" in the Accept header
        return super().render(data, accepted_media_type, renderer_context)
