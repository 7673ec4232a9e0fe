app_name = "buildingblocks"

# Two areas share this file: the building-block pages and the status editing
# pages (editor, history, "my municipality"). Add to the section you own.
urlpatterns = [
    # building-block pages
    # status editing
]
