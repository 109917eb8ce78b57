"""URLs of merging, unmerging, marking and the audit log (views_identity)."""

from django.urls import path

from townsquare.front import views_identity as views

urlpatterns = [
    path("members/merges/", views.merges, name="merges"),
    path("members/merges/<int:suggestion_id>/", views.merge_decide, name="merge_decide"),
    path("members/audit/", views.audit, name="member_audit"),
    path("members/<int:member_id>/merge/", views.member_merge, name="member_merge"),
    path(
        "members/<int:member_id>/merge/<int:other_id>/",
        views.member_merge_confirm,
        name="member_merge_confirm",
    ),
    path("members/<int:member_id>/unmerge/", views.member_unmerge, name="member_unmerge"),
    path("members/<int:member_id>/mark/", views.member_mark, name="member_mark"),
]
