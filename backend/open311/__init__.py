"""Open311 GeoReport v2 over Signal93's own services: the spec's vocabulary translated to ours and
back, no second intake, no second routing."""
