"""citycert's edges: settings, the command line, and the embedded runtime."""
