"""simulate layer (see DESIGN.md)."""
