from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from experiments.models import TrainingJob

register = template.Library()


@register.simple_tag(takes_context=True)
def list_query(context, **changes) -> str:
    """The list's query string with `changes` applied (an empty value removes the parameter).

    Changing anything but the page goes back to page 1.
    """
    params = context["request"].GET.copy()
    if "page" not in changes:
        params.pop("page", None)
    for name, value in changes.items():
        if value in ("", None):
            params.pop(name, None)
        else:
            params[name] = value
    return "?" + params.urlencode()


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


# The tags below build their HTML in Python: they run for every row of every
# list, and a sub-template per cell cost more than the rest of the page.


@register.simple_tag
def status_badge(status: str, label: str | None = None) -> str:
    badge = badge_context(status)
    return format_html(
        '<span class="badge badge-{}" data-status="{}"><span aria-hidden="true">{}</span> {}</span>',
        badge["colour"], status, badge["emoji"], label or badge["label"],
    )  # fmt: skip


@register.simple_tag
def experiment_status(job: TrainingJob) -> str:
    """The status cell: badge ("Running (Epoch 3/10)" and a progress bar while training) and any error."""
    if job.status == Status.RUNNING and job.current_epoch:
        label = _("Running (Epoch %(epoch)s/%(epochs)s)") % {"epoch": job.current_epoch, "epochs": job.epochs}
        html = status_badge(job.status, label) + format_html(
            '\n<progress class="epoch-progress" max="{}" value="{}" aria-label="{}">{}/{}</progress>',
            job.epochs, job.current_epoch, _("Training progress"), job.current_epoch, job.epochs,
        )  # fmt: skip
        if job.cancel_requested_at:
            html += format_html('<div class="muted small">{}</div>', _("Stopping…"))
    else:
        html = status_badge(job.status)
    if job.error_message and job.status != Status.COMPLETED:
        html += format_html('<div class="error-message">{}</div>', job.error_message)
    return html


@register.simple_tag
def local_date(value) -> str:
    """<time> with the full timestamp, showing the date in the active time zone."""
    local = timezone.localtime(value)
    return format_html('<time datetime="{}" title="{}">{}</time>', local.isoformat(),
                       local.strftime("%Y-%m-%d %H:%M %Z"), local.strftime("%Y-%m-%d"))  # fmt: skip


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


@register.simple_tag
def sparkline(metrics) -> str:
    """A tiny accuracy curve for a table row (accuracy is a fraction: drawn on 0..1)."""
    points = _scaled_points([m.accuracy for m in metrics], 80, 22, 2, low=0.0, high=1.0)
    if len(points) < 2:
        return ""
    return format_html(
        '<svg class="sparkline" width="80" height="22" viewBox="0 0 80 22" role="img" aria-label="{}">'
        '<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{}"/></svg>',
        _("accuracy per epoch"), " ".join(f"{x},{y}" for x, y in points),
    )  # fmt: skip


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


@register.simple_tag(takes_context=True)
def selection_toggle(context, job_id) -> dict:
    """A row's compare checkbox: whether it is selected, and the list's query with it toggled (same page).

    `query` is None when the selection is full and this row is not in it.
    """
    selected, job_id = list(context["selected"]), str(job_id)
    checked = job_id in selected
    if checked:
        selected.remove(job_id)
    elif context["selection_full"]:
        return {"checked": False, "query": None}
    else:
        selected.append(job_id)
    query = list_query(context, selected=",".join(selected), page=context["request"].GET.get("page"))
    return {"checked": checked, "query": query}


# Series colours of the compare charts (Tableau 10, distinguishable and readable on white); past ten
# experiments the colours repeat with a dashed line.
SERIES_COLOURS = [
    "#4e79a7",
    "#e15759",
    "#59a14f",
    "#b07aa1",
    "#f28e2b",
    "#76b7b2",
    "#9c755f",
    "#edc948",
    "#ff9da7",
    "#bab0ac",
]


def series_style(index: int) -> dict:
    return {"colour": SERIES_COLOURS[index % 10], "dash": "6 4" if index >= 10 else ""}


@register.inclusion_tag("experiments/_compare_chart.html")
def compare_chart(jobs, field: str, title: str, as_percent: bool = False) -> dict:
    """One per-epoch metric of several experiments on shared axes, as inline SVG; each point names itself on hover."""
    width, height, pad = 560, 220, 32
    series_values = [[getattr(m, field) for m in job.metrics.all()] for job in jobs]
    known = [v for values in series_values for v in values if v is not None]
    low, high = (0.0, 1.0) if as_percent else ((min(known), max(known)) if known else (0.0, 1.0))
    epochs = max((len(values) for values in series_values), default=0)

    def label(v):
        return percent(v) if as_percent else f"{v:.3g}"

    series = []
    for index, (job, values) in enumerate(zip(jobs, series_values, strict=True)):
        padded = values + [None] * (epochs - len(values))  # shorter runs end early on the shared x axis
        points = _scaled_points(padded, width, height, pad, low=low, high=high)
        known_points = [(i + 1, v) for i, v in enumerate(values) if v is not None]
        series.append({
            "job": job, **series_style(index),
            "points": " ".join(f"{x},{y}" for x, y in points),
            "dots": [(x, y, epoch, label(v)) for (x, y), (epoch, v) in zip(points, known_points, strict=True)],
        })  # fmt: skip
    return {
        "title": title, "field": field, "width": width, "height": height, "pad": pad, "bottom": height - pad,
        "series": series, "top_label": label(high), "bottom_label": label(low), "epochs": epochs,
    }  # fmt: skip


@register.simple_tag
def series_swatch(index: int) -> dict:
    """The colour and dash of the compare charts' series number `index`, for the legend."""
    return series_style(index)
