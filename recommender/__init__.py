"""Mining jobs and the recommendation endpoint."""
