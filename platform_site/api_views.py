from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework_simplejwt import views as simplejwt_views
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer

from platform_site.api_docs import ERROR_RESPONSES, ErrorSerializer
from platform_site.throttling import SIGN_IN_THROTTLES


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


TOO_MANY_ATTEMPTS = OpenApiResponse(ErrorSerializer, description="Too many attempts; retry after Retry-After seconds")


@extend_schema(
    summary="Sign in: an access token and a refresh token",
    responses={
        200: TokenObtainPairSerializer,
        400: ERROR_RESPONSES[400],
        401: OpenApiResponse(ErrorSerializer, description="Wrong username or password, or an inactive user"),
        429: TOO_MANY_ATTEMPTS,
    },
)
class TokenObtainView(simplejwt_views.TokenObtainPairView):
    throttle_classes = SIGN_IN_THROTTLES


@extend_schema(
    summary="A new access token for a refresh token",
    responses={
        200: TokenRefreshSerializer,
        400: ERROR_RESPONSES[400],
        401: OpenApiResponse(ErrorSerializer, description="The refresh token is invalid or expired"),
        429: TOO_MANY_ATTEMPTS,
    },
)
class TokenRefreshView(simplejwt_views.TokenRefreshView):
    throttle_classes = SIGN_IN_THROTTLES
