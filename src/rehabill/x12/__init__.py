"""x12 layer (see DESIGN.md)."""
