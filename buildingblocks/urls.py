from django.urls import path

from buildingblocks import views

app_name = "buildingblocks"

# Two areas share this file: the building-block pages and the status editing
# pages (editor, history, "my municipality"). Add to the section you own.
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
]
