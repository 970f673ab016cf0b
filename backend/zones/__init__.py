"""Named geometries: département, communes, territories, parks, roads."""
