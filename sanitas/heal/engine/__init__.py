"""Pure numerical building blocks shared by the heal detectors (no I/O, no models to load)."""
