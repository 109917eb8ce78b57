from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "townsquare.staff"
    label = "staff"
    verbose_name = "Staff and roles"
