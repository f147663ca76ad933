"""The product's rules with no I/O: a leaf that imports no db, graph or services."""
