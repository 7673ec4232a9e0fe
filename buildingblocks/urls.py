from django.urls import path

from buildingblocks import views

app_name = "buildingblocks"

# Three areas share this file: the building-block pages, the status editing
# pages (editor, history, "my municipality") and the bulk import. Add to the
# section you own.
urlpatterns = [
    # building-block pages
    path("bouwstenen/", views.BuildingBlockListView.as_view(), name="list"),
    path(
        "bouwstenen/statussen.csv",
        views.StatusExportView.as_view(),
        name="status-export",
    ),
    path(
        "bouwstenen/<slug:code>/",
        views.BuildingBlockDetailView.as_view(),
        name="detail",
    ),
    # status editing
    path("mijn-gemeente/", views.MyMunicipalityView.as_view(), name="mine"),
    path(
        "gemeenten/<slug:slug>/bewerken/",
        views.StatusEditView.as_view(),
        name="edit",
    ),
    path(
        "gemeenten/<slug:slug>/geschiedenis/",
        views.StatusChangeListView.as_view(),
        name="history",
    ),
    # the bulk import (KING staff)
    path("import/", views.ImportView.as_view(), name="import"),
    path(
        "import/sjabloon.csv",
        views.ImportTemplateView.as_view(),
        name="import-template",
    ),
    path("import/<int:pk>/", views.ImportPreviewView.as_view(), name="import-preview"),
    path(
        "import/<int:pk>/toepassen/",
        views.ImportApplyView.as_view(),
        name="import-apply",
    ),
]
