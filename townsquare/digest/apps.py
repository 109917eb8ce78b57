from django.apps import AppConfig


class DigestConfig(AppConfig):
    name = "townsquare.digest"
    label = "digest"
    verbose_name = "Weekly digest"
