from django.urls import path  # noqa: F401

from buildingblocks import views  # noqa: F401

app_name = "buildingblocks"

urlpatterns: list = []
