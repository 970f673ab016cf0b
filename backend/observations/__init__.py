"""Balades Observ'acteurs: the parks' nature zones and their walks, QR codes on the posts, the zone
cards walkers open, and (to come) the sightings they send and the data ecologists reuse."""
