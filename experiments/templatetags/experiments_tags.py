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


def _scaled_points(values, width: float, height: float, pad: float, low=None, high=None) -> list[tuple[float, float]]:
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if not points:
        return []
    low = min(v for _, v in points) if low is None else low
    high = max(v for _, v in points) if high is None else high
    span = (high - low) or 1.0
    steps = max(len(values) - 1, 1)
    return [
        (round(pad + i * (width - 2 * pad) / steps, 1), round(height - pad - (v - low) * (height - 2 * pad) / span, 1))
        for i, v in points
    ]


@register.inclusion_tag("experiments/_sparkline.html")
def sparkline(metrics) -> dict:
    """A tiny accuracy curve for a table row (accuracy is a fraction: drawn on 0..1)."""
    values = [m.accuracy for m in metrics]
    points = _scaled_points(values, 80, 22, 2, low=0.0, high=1.0)
    return {
        "points": " ".join(f"{x},{y}" for x, y in points),
        "count": len(points),
        "last": values[-1] if values else None,
    }


@register.inclusion_tag("experiments/_chart.html")
def metric_chart(metrics, field: str, title: str, as_percent: bool = False) -> dict:
    """A line chart of one per-epoch metric, as inline SVG."""
    width, height, pad = 480, 180, 28
    values = [getattr(m, field) for m in metrics]
    known = [v for v in values if v is not None]
    low, high = (0.0, 1.0) if as_percent else ((min(known), max(known)) if known else (0.0, 1.0))
    points = _scaled_points(values, width, height, pad, low=low, high=high)

    def label(v):
        return percent(v) if as_percent else f"{v:.3g}"

    return {
        "title": title,
        "field": field,
        "width": width,
        "height": height,
        "pad": pad,
        "bottom": height - pad,
        "points": " ".join(f"{x},{y}" for x, y in points),
        "dots": points,
        "top_label": label(high),
        "bottom_label": label(low),
        "epochs": len(values),
        "last": label(known[-1]) if known else "-",
    }
