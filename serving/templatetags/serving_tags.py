from django import template

from serving import selectors

register = template.Library()


@register.inclusion_tag("serving/_experiment_serving.html", takes_context=True)
def serving_panel(context, job):
    """The experiment page's exports and "try it", for a completed experiment with best weights."""
    return {
        "job": job,
        "project": job.project,
        "csrf_token": context.get("csrf_token"),
        "exports": selectors.exports_of(job),
        "prediction": selectors.latest_prediction(job),
    }
