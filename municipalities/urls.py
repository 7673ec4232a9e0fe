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
]
