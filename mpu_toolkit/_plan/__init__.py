"""Pure planners: part sizes, integrity digests, copy/compose layouts, resume plans and
the assembly of pieces. No I/O, so they are tested exhaustively with hypothesis. Not API.
"""
