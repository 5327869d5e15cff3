"""One generated module per two-point function."""
