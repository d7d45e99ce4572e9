"""Scraping `/metrics` in tests: servicekit.testing's helpers, under short names."""

from servicekit.testing import metric as value
from servicekit.testing import metric_sum as total
from servicekit.testing import scrape_metrics as scrape

__all__ = ["scrape", "total", "value"]
