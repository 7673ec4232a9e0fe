from django.urls import path

from scoring import views

app_name = "scoring"

urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("methode/", views.MethodView.as_view(), name="method"),
]
