"""Portal knowledge: the site registry, CMS-family adapters, page parsers and the spider."""
