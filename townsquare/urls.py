from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("pulse/", include("townsquare.listening.urls")),
    path("", include("townsquare.front.urls")),
]
