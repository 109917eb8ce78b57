from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "townsquare.moderation"
    label = "moderation"
    verbose_name = "Moderation"
