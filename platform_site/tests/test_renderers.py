import json

from platform_site.renderers import JSONRenderer, RenderedJSON


def test_a_rendered_body_is_sent_as_it_is():
    # Spaces that the renderer itself would never write: proof that it was not encoded again.
    assert JSONRenderer().render(RenderedJSON(b'[{"a": 1}]')) == b'[{"a": 1}]'


def test_a_rendered_body_is_indented_when_the_client_asks_for_it():
    body = JSONRenderer().render(RenderedJSON(b'[{"a":1}]'), "application/json; indent=2")
    assert body == json.dumps([{"a": 1}], indent=2).encode()


def test_other_data_is_rendered_as_drf_renders_it():
    from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

    data = [{"name": "résumé\u2028", "value": 0.5}]
    assert JSONRenderer().render(data) == DRFJSONRenderer().render(data)
