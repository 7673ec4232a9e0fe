from django.urls import path

from api import docs, views

app_name = "api"

urlpatterns = [
    path("gemeenten", views.MunicipalityListView.as_view(), name="municipality-list"),
    path(
        "gemeenten/<str:cbsCode>",
        views.MunicipalityDetailView.as_view(),
        name="municipality-detail",
    ),
    path("bouwstenen", views.BlockListView.as_view(), name="block-list"),
    path(
        "bouwstenen/<slug:code>", views.BlockDetailView.as_view(), name="block-detail"
    ),
    path(
        "resultaatafspraken", views.AgreementListView.as_view(), name="agreement-list"
    ),
    path(
        "resultaatafspraken/<int:number>",
        views.AgreementDetailView.as_view(),
        name="agreement-detail",
    ),
    path("cijfers", views.FiguresView.as_view(), name="figures"),
    path("trends", views.TrendView.as_view(), name="trends"),
    path("openapi.json", docs.OpenApiView.as_view(), name="openapi"),
    path("docs", docs.SwaggerView.as_view(), name="docs"),
]
