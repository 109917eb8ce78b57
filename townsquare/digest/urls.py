"""The digest pages, included at digest/. Every view requires a role."""

from django.urls import path

from townsquare.digest import views

urlpatterns = [
    path("", views.digest_list, name="digest_list"),
    path("latest/", views.latest, name="digest_latest"),
    # The week's Monday as YYYY-MM-DD; anything else is a 404 (str: the access tests fill
    # every URL parameter with 1).
    path("<str:week>/", views.digest, name="digest"),
    path("<str:week>/email/", views.email_choice, name="digest_email"),
]
