from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, OpenApiTypes, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from datasets import services
from datasets.api.serializers import (
    DatasetFolderSerializer,
    DatasetSerializer,
    DatasetUploadSerializer,
    DatasetVersionSerializer,
    FindingSerializer,
    FixSerializer,
)
from datasets.models import Dataset, DatasetVersion, FindingKind, get_owned_dataset_or_404, get_owned_version_or_404
from platform_site.api_docs import ERROR_RESPONSES, PAGE_HEADERS, ErrorSerializer
from platform_site.pagination import HeaderPagination
from platform_site.parsers import SafeJSONParser

ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
IN_USE = {409: OpenApiResponse(ErrorSerializer, description="Experiments trained on it"), **ERROR_RESPONSES}


class InUse(APIException):
    status_code = status.HTTP_409_CONFLICT


@extend_schema_view(
    list=extend_schema(
        summary="The caller's datasets with their versions",
        responses={200: DatasetSerializer(many=True), **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One dataset with its versions", parameters=[ID], responses={200: DatasetSerializer, **ERROR_RESPONSES}
    ),
    create=extend_schema(
        summary="Upload an archive (multipart) or register a folder (JSON): a new version, checked by a worker",
        description=(
            "Zip or tar archives of an ImageFolder, a YOLO data set (data.yaml) or COCO JSON. The new version is "
            "pending until a worker has checked it; then ready (with its splits and classes) or invalid (with its "
            "findings). Uploading the same archive again to a dataset answers 200 with the existing version."
        ),
        request={"multipart/form-data": DatasetUploadSerializer, "application/json": DatasetFolderSerializer},
        responses={201: DatasetVersionSerializer, 200: DatasetVersionSerializer, **ERROR_RESPONSES},
    ),
    destroy=extend_schema(
        summary="Delete a dataset and its versions", parameters=[ID], responses={204: None, **IN_USE}
    ),
)
class DatasetViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    lookup_value_regex = "[^/]+"
    parser_classes = [MultiPartParser, SafeJSONParser]

    def get_serializer_class(self):
        if self.action != "create":
            return DatasetSerializer
        uploading = self.request.content_type.startswith("multipart/form-data")
        return DatasetUploadSerializer if uploading else DatasetFolderSerializer

    def get_queryset(self):
        return Dataset.objects.owned_by(self.request.user).prefetch_related("versions__dataset")

    def get_object(self):
        return get_owned_dataset_or_404(self.request.user, self.kwargs["pk"])

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, created = serializer.validated_data, True
        try:
            if "file" in data:
                version, created = services.upload_version(owner=request.user, name=data["name"], file=data["file"])
            else:
                version = services.register_folder(owner=request.user, name=data["name"], path=data["path"])
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
        answer = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(DatasetVersionSerializer(version).data, status=answer)

    def perform_destroy(self, dataset):
        try:
            services.delete_dataset(dataset)
        except services.DatasetInUse as error:
            raise InUse(str(error)) from None


@extend_schema_view(
    retrieve=extend_schema(
        summary="One dataset version: its check, splits, classes and findings",
        parameters=[ID],
        responses={200: DatasetVersionSerializer, **ERROR_RESPONSES},
    ),
    destroy=extend_schema(summary="Delete a dataset version", parameters=[ID], responses={204: None, **IN_USE}),
    findings=extend_schema(
        summary="The version's check report: every finding, by file and line, paged like the experiments list",
        parameters=[
            ID,
            *PAGE_HEADERS,
            OpenApiParameter("kind", OpenApiTypes.STR, enum=FindingKind.values, description="One kind only."),
            OpenApiParameter("split", OpenApiTypes.STR, enum=["train", "val"], description="One split only."),
        ],
        responses={200: FindingSerializer(many=True), **ERROR_RESPONSES},
    ),
    fixes=extend_schema(
        summary="Apply a one-click fix: a new version, built and checked by a worker",
        parameters=[ID],
        request=FixSerializer,
        responses={201: DatasetVersionSerializer, **ERROR_RESPONSES},
    ),
)
class DatasetVersionViewSet(mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = DatasetVersionSerializer
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return DatasetVersion.objects.owned_by(self.request.user)

    def get_object(self):
        return get_owned_version_or_404(self.request.user, self.kwargs["pk"])

    @action(detail=True, methods=["get"], pagination_class=HeaderPagination)
    def findings(self, request, pk=None):
        version = self.get_object()
        try:
            selected = version.findings_of(request.query_params)
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
        page = self.paginate_queryset(selected)
        return self.get_paginated_response(FindingSerializer(page, many=True).data)

    @action(detail=True, methods=["post"])
    def fixes(self, request, pk=None):
        version = self.get_object()
        serializer = FixSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            fixed = services.fix_version(version, serializer.validated_data["fix"])
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
        return Response(DatasetVersionSerializer(fixed).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, version):
        try:
            services.delete_version(version)
        except services.DatasetInUse as error:
            raise InUse(str(error)) from None
