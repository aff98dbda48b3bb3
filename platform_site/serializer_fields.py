from rest_framework import serializers


class TextField(serializers.CharField):
    """A CharField that takes strings only: DRF's own turns 0 into "0", where the schema says a number is wrong."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
