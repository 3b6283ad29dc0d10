"""The pure core: config -> model -> planned events -> changes. No clock, files or network."""
