"""One module per detector; each registers itself with ``detection.registry.register``, and
``detection.registry`` imports every module here. Adding a detector is adding a module (and
its tests): the settings page, the Alerts filter and the scan find it."""
