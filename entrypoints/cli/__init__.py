"""The `citycert` command line (typer)."""
