"""Observ'acteurs: the species list and sightings in the parks."""
