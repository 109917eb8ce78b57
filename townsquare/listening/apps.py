from django.apps import AppConfig


class ListeningConfig(AppConfig):
    name = "townsquare.listening"
    label = "listening"
    verbose_name = "Listening"
