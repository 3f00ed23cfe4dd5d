"""The import plugins; each module's ``get_flow`` is a stevedore entry point."""
