"""Small Lambda handlers that belong to the infrastructure itself (not the application)."""
