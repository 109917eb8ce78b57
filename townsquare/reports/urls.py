"""The Reports page, included at reports/. Every view requires a viewer or above."""

from django.urls import path

from townsquare.reports import views

urlpatterns = [
    path("", views.reports, name="reports"),
    path("<slug:chart>.csv", views.chart_csv, name="report_csv"),
    path("<slug:chart>.parquet", views.chart_parquet, name="report_parquet"),
    path("<slug:chart>/", views.chart_block, name="report_chart"),
]
