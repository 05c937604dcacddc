"""HTTP only: the requests-based client, its transport and the problem+json error mapping."""
