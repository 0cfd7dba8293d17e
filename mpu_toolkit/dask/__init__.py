"""Dask at job scale: many partitions written as one object by the workers themselves."""
