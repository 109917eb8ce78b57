from django.contrib import admin
from django.urls import include, path

from townsquare.api.api import api

handler403 = "townsquare.front.access.permission_denied"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("pulse/", include("townsquare.listening.urls")),
    path("reports/", include("townsquare.reports.urls")),
    path("care/", include("townsquare.care.urls")),
    path("staff/", include("townsquare.staff.urls")),
    path("moderation/", include("townsquare.moderation.urls")),
    path("inbox/", include("townsquare.inbox.urls")),
    path("digest/", include("townsquare.digest.urls")),
    path("settings/webhooks/", include("townsquare.webhooks.urls")),
    path("", include("townsquare.front.urls")),
]
