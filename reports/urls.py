from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("rapportages/", views.ReportListView.as_view(), name="list"),
    path(
        "rapportages/herinneringen/",
        views.ReminderPlanView.as_view(),
        name="reminders",
    ),
    path(
        "rapportages/herinneringen/<slug:slug>/",
        views.ReminderPreviewView.as_view(),
        name="reminder-preview",
    ),
    path("rapportages/<int:pk>/", views.report_detail, name="detail"),
    path("rapportages/<int:pk>/status/", views.report_status, name="status"),
    path("rapportages/<int:pk>/download/", views.report_download, name="download"),
    path("rapportages/<int:pk>/verwijderen/", views.report_delete, name="delete"),
    path("rapportages/<int:pk>/opnieuw/", views.report_retry, name="retry"),
    path(
        "gemeenten/<slug:slug>/scorecard-pdf/",
        views.scorecard_request,
        name="scorecard",
    ),
]
