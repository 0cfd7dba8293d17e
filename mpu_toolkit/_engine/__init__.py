"""The transfer engine: one upload's coordinator, the streaming writer, planned transfers
(copy, compose, file upload) and bounded concurrency, on fsspec's event loop. Not API.
"""
