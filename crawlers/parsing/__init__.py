"""Pure page parsers: bytes in, values out. No network, no clock."""
