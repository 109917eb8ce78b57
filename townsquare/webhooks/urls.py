"""The webhook pages, included at settings/webhooks/."""

from django.urls import path

from townsquare.webhooks import views

urlpatterns = [
    path("", views.subscriptions, name="webhooks"),
    path("<int:subscription_id>/", views.subscription, name="webhook"),
    path("<int:subscription_id>/events/", views.events, name="webhook_events"),
    path("<int:subscription_id>/active/", views.active, name="webhook_active"),
    path("<int:subscription_id>/rotate/", views.rotate, name="webhook_rotate"),
    path("<int:subscription_id>/delete/", views.delete, name="webhook_delete"),
    path("<int:subscription_id>/test/", views.test, name="webhook_test"),
    path("<int:subscription_id>/deliveries/", views.deliveries, name="webhook_deliveries"),
    path("deliveries/<int:delivery_id>/retry/", views.retry, name="webhook_retry"),
]
