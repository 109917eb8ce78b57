"""The pages' URLs. Every view but login and logout requires a signed-in user."""

from django.urls import include, path

from townsquare.front import (
    views,
    views_imports,
    views_members,
    views_memory,
    views_privacy,
)

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("members/", views.members, name="members"),
    path("members/<int:member_id>/", views.member, name="member"),
    path("", include("townsquare.front.urls_identity")),
    path("conversations/", views.conversations, name="conversations"),
    path("conversations/<int:conversation_id>/", views.conversation, name="conversation"),
    path(
        "interactions/<int:interaction_id>/labels/",
        views.correct_labels,
        name="correct_labels",
    ),
    path("terms/", views.terms, name="terms"),
    path("terms/<int:term_id>/", views.term, name="term"),
    path("terms/<int:term_id>/active/", views.term_active, name="term_active"),
    path("imports/<int:run_id>/", views.import_run, name="import_run"),
    path("settings/", views.settings_hub, name="settings"),
    *views_imports.urlpatterns,
    *views_members.urlpatterns,
    *views_memory.urlpatterns,
    *views_privacy.urlpatterns,
]
