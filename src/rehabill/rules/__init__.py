"""rules layer (see DESIGN.md)."""
