from django.urls import path

from agreements import views

app_name = "agreements"

urlpatterns = [
    path("resultaatafspraken/", views.ResultAgreementListView.as_view(), name="list"),
    path(
        "resultaatafspraken/<int:number>/",
        views.ResultAgreementDetailView.as_view(),
        name="detail",
    ),
]
