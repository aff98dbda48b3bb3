from django import forms
from django.utils.translation import gettext_lazy as _

from experiments import datasets
from experiments.models import TrainingJob


class NewExperimentForm(forms.Form):
    """The "+ New experiment" form; what the values must be is checked by services.validate_new_experiment."""

    framework = forms.ChoiceField(label=_("Framework"), choices=TrainingJob.Framework.choices)
    model_name = forms.CharField(label=_("Model"), max_length=200)
    task_type = forms.ChoiceField(label=_("Task"), choices=TrainingJob.TaskType.choices)
    dataset_path = forms.CharField(label=_("Dataset"), max_length=500)
    epochs = forms.IntegerField(label=_("Epochs"), initial=5)
    batch_size = forms.IntegerField(label=_("Batch size"), initial=16)
    learning_rate = forms.FloatField(label=_("Learning rate"), initial=0.001)
    image_size = forms.IntegerField(label=_("Image size (px)"), required=False, help_text=_("Optional."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        available = datasets.available()
        self.dataset_choices = [(d.name, sorted(d.task_types)) for d in available]
        if available and not self.is_bound:
            self.initial.setdefault("dataset_path", available[0].name)
        self.initial.setdefault("model_name", "resnet18")
