"""Image-import plugins for OpenStack Glance's interoperable image import."""
