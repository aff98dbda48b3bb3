from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from platform_site.api_docs import ERROR_RESPONSES


@extend_schema(
    summary="The authenticated user",
    responses={
        200: inline_serializer("Me", {"id": serializers.IntegerField(), "username": serializers.CharField()}),
        401: ERROR_RESPONSES[401],
    },
)
@api_view(["GET"])
def me(request):
    """Who the token (or session) belongs to."""
    return Response({"id": request.user.id, "username": request.user.get_username()})
