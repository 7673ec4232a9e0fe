from django.urls import path

from municipalities import views

app_name = "municipalities"

urlpatterns = [
    path("mijn-gemeente/", views.MineView.as_view(), name="mine"),
]
