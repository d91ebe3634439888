"""coding layer (see DESIGN.md)."""
