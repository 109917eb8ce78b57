from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "townsquare.connectors"
    label = "connectors"
    verbose_name = "Connectors"
