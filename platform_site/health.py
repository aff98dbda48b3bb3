from django.db import DatabaseError, connection
from django.http import JsonResponse


class HealthCheckMiddleware:
    """Answers GET /healthz with the database's health.

    It sits first in MIDDLEWARE so that a platform's probe, which sends its own
    Host header over plain HTTP, is answered without host validation or the
    HTTPS redirect.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != "/healthz":
            return self.get_response(request)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
        return JsonResponse({"status": "ok", "database": "ok"})
