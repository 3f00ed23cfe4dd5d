"""The import plugins: each module's ``get_flow`` is an entry point."""
