from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "townsquare.demo"
    label = "demo"
    verbose_name = "Demo community"
