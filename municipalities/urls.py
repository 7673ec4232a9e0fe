from django.urls import path  # noqa: F401

from municipalities import views  # noqa: F401

app_name = "municipalities"

urlpatterns: list = []
