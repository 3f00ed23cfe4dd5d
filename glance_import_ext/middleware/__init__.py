"""WSGI filters for glance-api's paste pipeline."""
