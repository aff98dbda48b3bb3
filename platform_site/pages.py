from django.shortcuts import render


def refused(request, message: str, back: str, status: int = 409):
    """What a page answers when an action cannot be done now (HTTP 409), or was sent something it cannot use
    (400): why, and a way back."""
    return render(request, "409.html", {"message": message, "back": back}, status=status)
