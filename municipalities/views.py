"""Views of the municipalities app."""
