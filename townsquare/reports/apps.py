from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "townsquare.reports"
    verbose_name = "Reports"
