"""One generated module per activation."""
