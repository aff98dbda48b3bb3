"""Page/per_page pagination whose body stays a plain JSON array.

The prototype's front end reads the body directly as the list, so the API
sends the count and the links in headers: X-Total-Count and an RFC 8288 Link
header. The HTML pages use the same Paginator and parameters.
"""

from django.core import paginator
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
# A page number with more digits than this is past the end of every list; reading it as this
# one keeps int() and 64-bit offsets out of trouble.
PAST_EVERY_END = 10**15


class InvalidPageParameter(ValueError):
    def __init__(self, param: str, message: str):
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


def page_params(params) -> tuple[int, int]:
    """(page, per_page) from a query string; InvalidPageParameter names the one that is wrong."""
    return _positive_int(params, "page", 1, None), _positive_int(params, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)


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
        raise InvalidPageParameter(name, message)
    if len(raw) > len(str(maximum or PAST_EVERY_END)):
        if maximum is None:
            return PAST_EVERY_END
        raise InvalidPageParameter(name, message)
    value = int(raw)
    if value < 1 or (maximum is not None and value > maximum):
        raise InvalidPageParameter(name, message)
    return value


class Page(paginator.Page):
    def previous_page_number(self) -> int:
        # From past the end, "previous" is the last page that has rows.
        return min(self.number - 1, self.paginator.num_pages)


class Paginator(paginator.Paginator):
    """Django's Paginator, with three differences.

    - `count` may be given (a maintained count), which spares a COUNT(*).
    - A page past the end is empty, not an error.
    - A deep page of a queryset ordered newest first (two descending fields,
      such as -created_at, -id) does not OFFSET over whole rows: an
      index-only query finds the key of its first row, and the page is read
      from that key on.
    """

    def __init__(self, object_list, per_page, count: int | None = None):
        super().__init__(object_list, per_page)
        if count is not None:
            self.count = count  # in place of the cached COUNT(*)

    def page(self, number: int) -> Page:
        offset = (number - 1) * self.per_page
        rows = self._rows_from(offset) if offset < self.count else []
        return self._get_page(rows, number, self)

    def _get_page(self, *args, **kwargs) -> Page:
        return Page(*args, **kwargs)

    def _rows_from(self, offset: int) -> list:
        rows = self.object_list
        keys = _descending_keys(rows)
        if offset == 0 or keys is None:
            return list(rows[offset : offset + self.per_page])
        first, second = keys
        boundary = rows.prefetch_related(None).values_list(first, second)[offset : offset + 1]
        if not boundary:
            return []
        first_value, second_value = boundary[0]
        # first <= a AND (first < a OR second <= b): the first term is an index range.
        from_boundary = Q(**{f"{first}__lte": first_value}) & (
            Q(**{f"{first}__lt": first_value}) | Q(**{f"{second}__lte": second_value})
        )
        return list(rows.filter(from_boundary)[: self.per_page])


def _descending_keys(rows) -> tuple[str, str] | None:
    """The two fields of an ordering like ("-created_at", "-id"), or None for any other."""
    if not isinstance(rows, QuerySet):
        return None
    ordering = rows.query.order_by
    if len(ordering) != 2 or not all(isinstance(f, str) and f.startswith("-") for f in ordering):
        return None
    return ordering[0][1:], ordering[1][1:]


class HeaderPagination(PageNumberPagination):
    """DRF's page-number pagination, with the list as the body and the count and links in headers.

    `page` and `per_page` are read by page_params(), as the HTML pages read them.
    """

    def paginate_queryset(self, queryset, request, view=None, count: int | None = None) -> list:
        """One page of `queryset`; pass `count` when the total is known without counting the rows."""
        try:
            number, per_page = page_params(request.query_params)
        except InvalidPageParameter as error:
            raise ValidationError({error.param: [error.message]}) from None
        self.request = request
        self.page = Paginator(queryset, per_page, count=count).page(number)
        return list(self.page)

    def get_paginated_response(self, data) -> Response:
        return Response(data, headers={"X-Total-Count": str(self.page.paginator.count), "Link": self.get_link_header()})

    def get_link_header(self) -> str:
        page = self.page
        links = [(1, "first")]
        if page.has_previous():
            links.append((page.previous_page_number(), "prev"))
        if page.has_next():
            links.append((page.next_page_number(), "next"))
        links.append((page.paginator.num_pages, "last"))
        url = replace_query_param(self.request.build_absolute_uri(), "per_page", page.paginator.per_page)
        return ", ".join(f'<{replace_query_param(url, "page", number)}>; rel="{rel}"' for number, rel in links)

    def get_paginated_response_schema(self, schema):
        return schema  # the body is the list itself

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
