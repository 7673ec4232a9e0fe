from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BuildingblocksConfig(AppConfig):
    name = "buildingblocks"
    verbose_name = _("Building blocks")
