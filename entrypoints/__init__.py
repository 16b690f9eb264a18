"""The ways in: the HTTP API (`http`), the command line (`cli`) and the one-command dev runtime (`dev`).
Nothing imports an entry point."""
