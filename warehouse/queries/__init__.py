"""Every SQL statement of the product, one module per subject, each function named for what it answers."""
