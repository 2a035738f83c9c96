"""Plain-text renderings of what commands print for people: 80 columns, nothing truncated."""
