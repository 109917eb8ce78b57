from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "townsquare.community"
    label = "community"
    verbose_name = "Community"
