from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "townsquare.segments"
    label = "segments"
    verbose_name = "Segments"
