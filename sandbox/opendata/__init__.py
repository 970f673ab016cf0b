"""Open data for hackathon teams: datasets, their snapshots, and the Explore v2.1 query API."""
