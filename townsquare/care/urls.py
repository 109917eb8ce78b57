from django.urls import path

from townsquare.care import views

urlpatterns = [
    path("", views.queue, name="care"),
    path("settings/", views.care_settings, name="care_settings"),
    path("<int:item_id>/", views.item, name="care_item"),
    path("<int:item_id>/assign/", views.assign, name="care_assign"),
    path("<int:item_id>/snooze/", views.snooze, name="care_snooze"),
    path("<int:item_id>/resolve/", views.resolve, name="care_resolve"),
    path("<int:item_id>/dismiss/", views.dismiss, name="care_dismiss"),
]
