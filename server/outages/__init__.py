"""Planned outage notices: published by the office, told to the customers of the areas."""
