from django.urls import path

from townsquare.front import views

urlpatterns = [
    path("", views.home, name="home"),
]
