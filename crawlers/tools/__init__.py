"""The maintainers' tools: detect a portal's CMS, probe a site live, watch columns from the
config, save fixtures, list the registry."""
