from django import forms
from django.utils.translation import gettext_lazy as _


class PredictionForm(forms.Form):
    """ "Try it": an image, or none to try one of the validation images. services.prediction_create checks it."""

    image = forms.FileField(label=_("Image"), required=False)
