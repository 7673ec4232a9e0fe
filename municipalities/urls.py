from django.urls import path

from municipalities import views

app_name = "municipalities"

urlpatterns = [
    path("gemeenten/", views.MunicipalityListView.as_view(), name="list"),
    path(
        "gemeenten/<slug:slug>/", views.MunicipalityDetailView.as_view(), name="detail"
    ),
    path(
        "gemeenten/<slug:slug>/wat-als/",
        views.WhatIfView.as_view(),
        name="whatif",
    ),
    path("matrix/", views.MatrixView.as_view(), name="matrix"),
    path("provincies/", views.ProvinceListView.as_view(), name="provinces"),
    path(
        "provincies/<slug:slug>/",
        views.ProvinceDetailView.as_view(),
        name="province",
    ),
]
