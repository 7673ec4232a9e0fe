"""Views of the buildingblocks app."""
