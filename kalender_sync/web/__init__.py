"""The web pages on the server `serve` runs: done links, the personal page, the coach dashboard."""
