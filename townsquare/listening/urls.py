"""The pulse pages, included at pulse/. Every view requires a signed-in user."""

from django.urls import path

from townsquare.listening import views

urlpatterns = [
    path("", views.pulse, name="pulse"),
    path("alerts/", views.alerts, name="pulse_alerts"),
    path("alerts/<int:alert_id>/acknowledge/", views.acknowledge, name="pulse_acknowledge"),
]
