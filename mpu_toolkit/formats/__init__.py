"""DataFrames and Arrow data streamed as Parquet, CSV and JSON Lines into one upload."""
