from django import forms
from django.utils.translation import gettext_lazy as _

from datasets.models import DatasetVersion
from experiments import selectors
from experiments.models import TrainingJob


class NewExperimentForm(forms.Form):
    """The "+ New experiment" form; what the values must be is checked by services.validate_new_experiment."""

    framework = forms.ChoiceField(label=_("Framework"), choices=TrainingJob.Framework.choices)
    model_name = forms.CharField(label=_("Model"), max_length=200)
    task_type = forms.ChoiceField(label=_("Task"), choices=TrainingJob.TaskType.choices)
    dataset = forms.ChoiceField(label=_("Dataset"))
    epochs = forms.IntegerField(label=_("Epochs"), initial=5)
    batch_size = forms.IntegerField(label=_("Batch size"), initial=16)
    learning_rate = forms.FloatField(label=_("Learning rate"), initial=0.001)
    image_size = forms.IntegerField(label=_("Image size (px)"), required=False, help_text=_("Optional."))
    augmentation = forms.ChoiceField(
        label=_("Augmentation"),
        choices=TrainingJob.Augmentation.choices,
        initial=TrainingJob.Augmentation.STANDARD,
        help_text=_("Choose Light or None for digits, text and anything with a left and a right."),
    )
    device = forms.ChoiceField(label=_("Device"), choices=TrainingJob.Device.choices, initial=TrainingJob.Device.ANY)
    initial_weights = forms.ChoiceField(
        label=_("Start from"),
        choices=TrainingJob.InitialWeights.choices,
        initial=TrainingJob.InitialWeights.SCRATCH,
        required=False,
    )
    start_from = forms.ChoiceField(
        label=_("Earlier experiment"),
        required=False,
        help_text=_("Its best weights, for the same model; a new head when the classes differ."),
    )

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        # The owner's completed runs with stored best weights; the page shows those of the chosen model.
        self.starting_experiments = list(selectors.with_best_weights(owner)[:200])
        self.fields["start_from"].choices = [("", "-")] + [(job.id, job.label) for job in self.starting_experiments]
        # The owner's checked versions; the page shows those that fit the chosen task.
        versions = DatasetVersion.objects.owned_by(owner).ready().order_by("dataset__name", "-number")
        self.dataset_versions = list(versions)
        self.fields["dataset"].choices = [(v.id, v.label) for v in self.dataset_versions]
        self.initial.setdefault("model_name", "resnet18")

    def clean_initial_weights(self):
        return self.cleaned_data["initial_weights"] or TrainingJob.InitialWeights.SCRATCH


class DescribeExperimentForm(forms.Form):
    """The experiment page's name and note; an empty one clears it."""

    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    note = forms.CharField(label=_("Note"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
