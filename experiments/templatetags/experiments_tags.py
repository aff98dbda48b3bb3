from django import template

from experiments.models import TrainingJob

register = template.Library()

Status = TrainingJob.Status

# Emoji and colour of each status badge, as our users described them.
STATUS_BADGES = {
    Status.PENDING: ("⏳", "gray"),
    Status.RUNNING: ("🟡", "yellow"),
    Status.COMPLETED: ("✅", "green"),
    Status.FAILED: ("❌", "red"),
    Status.CANCELLED: ("🚫", "orange"),
}


def badge_context(status: str) -> dict:
    emoji, colour = STATUS_BADGES.get(status, ("", "gray"))
    return {
        "status": status,
        "emoji": emoji,
        "colour": colour,
        "label": Status(status).label if status in Status.values else status,
    }


@register.inclusion_tag("experiments/_status_badge.html")
def status_badge(status: str) -> dict:
    return badge_context(status)


@register.filter
def percent(fraction) -> str:
    """0.89 -> "89.0%"; "-" only when there is no value (0 shows as 0.0%)."""
    if fraction is None:
        return "-"
    return f"{fraction * 100:.1f}%"
