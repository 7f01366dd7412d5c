"""What the picture shows, derived from the data: head links, colour scales."""
