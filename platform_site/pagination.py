"""Page/per_page pagination whose body stays a plain JSON array.

The prototype's front end reads the body directly as the list, so paging
metadata travels in headers: X-Total-Count and an RFC 8288 Link header.
The HTML pages page through the same `paginate()`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from math import ceil
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
# Any page number with more digits than this is past the end of every list;
# reading it as this one keeps int() and 64-bit offsets out of trouble.
PAST_EVERY_END = 10**15
# Below this many rows, skipping through the index costs less than the seek's query
# (measured: the two cost the same at about 12,000 rows, on SQLite and on PostgreSQL).
SEEK_FROM_OFFSET = 10_000


class InvalidQueryParameter(Exception):
    def __init__(self, param: str, message: str):
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


@dataclass(frozen=True)
class PageRequest:
    number: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @classmethod
    def from_query(cls, params, max_per_page: int = MAX_PER_PAGE) -> "PageRequest":
        number = _positive_int(params, "page", default=1, maximum=None)
        per_page = _positive_int(params, "per_page", default=DEFAULT_PER_PAGE, maximum=max_per_page)
        return cls(number=number, per_page=per_page)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page


def _positive_int(params, name: str, default: int, maximum: int | None) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    shown = raw if len(raw) <= 40 else raw[:40] + "…"
    if maximum:
        message = _("must be an integer from 1 to %(maximum)d; got %(raw)r.") % {"maximum": maximum, "raw": shown}
    else:
        message = _("must be a positive integer (1, 2, 3, ...); got %(raw)r.") % {"raw": shown}
    # ASCII digits only: int() would also take " 5", "+5", "1_000" and other scripts' digits.
    if not (raw.isascii() and raw.isdigit()):
        raise InvalidQueryParameter(name, message)
    if len(raw) > len(str(maximum or PAST_EVERY_END)):
        if maximum is None:
            return PAST_EVERY_END
        raise InvalidQueryParameter(name, message)
    value = int(raw)
    if value < 1 or (maximum is not None and value > maximum):
        raise InvalidQueryParameter(name, message)
    return value


@dataclass(frozen=True)
class Page:
    """One page of a list. Its rows are read when .items is first used, so a
    view that finds the page's rendering in a cache never reads them."""

    total: int
    number: int
    per_page: int
    read_items: Callable[[], list] = field(repr=False)

    @cached_property
    def items(self) -> list:
        return self.read_items()

    @property
    def has_items(self) -> bool:
        """Whether the page has any rows, known from the total without reading them."""
        return (self.number - 1) * self.per_page < self.total

    @property
    def last_number(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.last_number

    @property
    def previous_number(self) -> int:
        # From past the end, "previous" is the last page that has rows.
        return min(self.number - 1, self.last_number)


def paginate(
    queryset: QuerySet | Callable[[], QuerySet],
    request: PageRequest,
    total: int | None = None,
    keyset: tuple[str, str] | None = None,
    seek: Callable[[int], tuple[Any, int] | None] | None = None,
) -> Page:
    """One page of an ordered queryset; a page past the end is empty, not an error.

    `queryset` may be a function that builds it: building a queryset has a
    cost of its own, which a page whose rows are never read (served from a
    cache) then does not pay. With a `total`, nothing is built or read here.

    With `keyset` (the two fields of a descending ordering, e.g. created_at and
    id) a deep page costs what the first one does, plus a skip through the index:
    the boundary row's key is found with an index-only query, and the page is
    read from there (WHERE key <= boundary ... LIMIT per_page) instead of
    reading and discarding every earlier row with OFFSET.

    With `seek` as well, the skip stays short however deep the page:
    seek(offset) returns (before, newer), meaning the row at `offset` has its
    first key field below `before` and exactly `newer` rows come before that
    value, so only `offset - newer` rows are skipped (see
    Project.seek_newest_first); None, and the skip starts from the top.
    """
    if total is None:
        queryset = _built(queryset)
        total = queryset.count()
    read_items = partial(_read_items, queryset, request, total, keyset, seek)
    return Page(total=total, number=request.number, per_page=request.per_page, read_items=read_items)


def _built(queryset) -> QuerySet:
    queryset = queryset if isinstance(queryset, QuerySet) else queryset()
    if not queryset.ordered:
        raise ImproperlyConfigured("Refusing to paginate an unordered queryset.")
    return queryset


def _read_items(queryset, request: PageRequest, total: int, keyset, seek) -> list:
    if request.offset >= total:
        return []
    queryset = _built(queryset)
    if keyset and request.offset:
        return _page_from_boundary(queryset, request, keyset, seek)
    return list(queryset[request.offset : request.offset + request.per_page])


def _page_from_boundary(queryset: QuerySet, request: PageRequest, keyset: tuple[str, str], seek) -> list:
    first, second = keyset
    offset = request.offset
    if seek and offset >= SEEK_FROM_OFFSET and (found := seek(offset)):
        before, newer = found
        queryset = queryset.filter(**{f"{first}__lt": before})
        offset -= newer
    boundary = list(queryset.prefetch_related(None).values_list(first, second)[offset : offset + 1])
    if not boundary:
        return []
    first_value, second_value = boundary[0]
    # first <= v AND (first < v OR second <= w): the first term is an index range.
    after = Q(**{f"{first}__lte": first_value}) & (
        Q(**{f"{first}__lt": first_value}) | Q(**{f"{second}__lte": second_value})
    )
    return list(queryset.filter(after)[: request.per_page])


class PageHeaderPagination(BasePagination):
    """DRF pagination: the body is the list, the metadata is in headers."""

    def paginate_queryset(self, queryset, request, view=None):
        return self.page_of(queryset, request, view).items

    def page_of(self, queryset, request, view=None) -> Page:
        """The page the request asks for; its rows are read only when its .items are used."""
        try:
            page_request = PageRequest.from_query(request.query_params)
        except InvalidQueryParameter as error:
            raise ValidationError({error.param: [error.message]}) from None
        total = getattr(view, "total_rows", None)  # a view that knows its total spares the COUNT(*)
        keyset, seek = getattr(view, "keyset", None), getattr(view, "seek", None)
        self.page = paginate(queryset, page_request, total=total, keyset=keyset, seek=seek)
        self.request = request
        return self.page

    def get_paginated_response(self, data):
        return Response(data, headers={"X-Total-Count": str(self.page.total), "Link": self.link_header()})

    def link_header(self) -> str:
        page = self.page
        links = [(1, "first")]
        if page.has_previous:
            links.append((page.previous_number, "prev"))
        if page.has_next:
            links.append((page.number + 1, "next"))
        links.append((page.last_number, "last"))
        # What DRF's replace_query_param() gives for each link, with the URL parsed once.
        scheme, netloc, path, query, fragment = urlsplit(self.request.build_absolute_uri())
        params = parse_qs(query, keep_blank_values=True)
        params["per_page"] = [str(page.per_page)]

        def url(number: int) -> str:
            params["page"] = [str(number)]
            return urlunsplit((scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment))

        return ", ".join(f'<{url(number)}>; rel="{rel}"' for number, rel in links)

    def get_paginated_response_schema(self, schema):
        return schema

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "description": "Page number, from 1. A page past the end is an empty list.",
                "schema": {"type": "integer", "minimum": 1, "default": 1},
            },
            {
                "name": "per_page",
                "in": "query",
                "required": False,
                "description": f"Items per page, 1 to {MAX_PER_PAGE}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
            },
        ]
