"""Evidence families: each module turns observations into values that accounts share."""
