"""The moderation pages, included at moderation/. Every view requires a signed-in user."""

from django.urls import path

from townsquare.moderation import views

urlpatterns = [
    path("", views.queue, name="moderation"),
    path("items/<int:item_id>/decide/", views.decide, name="moderation_decide"),
    path("log/", views.log, name="moderation_log"),
    path("words/", views.words, name="moderation_words"),
    path("words/<int:word_id>/active/", views.word_active, name="moderation_word_active"),
    path("pending-count/", views.pending_count, name="moderation_pending_count"),
]
