"""Synthetic district generator: monthly registry exports of a Shanghai district with an answer key.

Entry point: :func:`synthetic.generate.generate` (also ``python -m synthetic.generate``)."""
