"""The inbox's URLs, under /inbox/. Every view requires a signed-in user with a role."""

from django.urls import path

from townsquare.inbox import views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("count/", views.inbox_count, name="inbox_count"),
    path("replies/", views.replies, name="inbox_replies"),
    path("replies/<int:reply_id>/", views.reply_edit, name="inbox_reply"),
    path("replies/<int:reply_id>/delete/", views.reply_delete, name="inbox_reply_delete"),
    path("<int:conversation_id>/", views.conversation, name="inbox_conversation"),
    path("<int:conversation_id>/compose/", views.compose, name="inbox_compose"),
    path("<int:conversation_id>/claim/", views.claim, name="inbox_claim"),
    path("<int:conversation_id>/release/", views.release, name="inbox_release"),
    path("<int:conversation_id>/answered/", views.answered, name="inbox_answered"),
    path("<int:conversation_id>/reopen/", views.reopen, name="inbox_reopen"),
]
