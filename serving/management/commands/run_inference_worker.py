from experiments.management.commands.run_worker import Command as RunWorker


class Command(RunWorker):
    help = (
        'Answers "try it" predictions: a worker that takes the "inference" queue alone, so a prediction never '
        "waits behind a training, with torch, timm and Ultralytics loaded before the first request."
    )

    def handle(self, *args, **options):
        options["queue_name"] = "inference"
        from serving import loading

        loading.warm_up()
        return super().handle(*args, **options)
