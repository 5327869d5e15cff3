"""One generated module per model pencil."""
