"""STEM booking portal for Central Denmark Region's technology pact."""
