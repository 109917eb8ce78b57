from django.urls import path

from townsquare.staff import views

urlpatterns = [
    path("", views.staff, name="staff"),
    path("add/", views.add, name="staff_add"),
    path("<int:user_id>/role/", views.role, name="staff_role"),
    path("<int:user_id>/active/", views.active, name="staff_active"),
]
