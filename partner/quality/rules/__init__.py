"""Quality rules, one module per origin; partner.quality.registry gathers them."""
