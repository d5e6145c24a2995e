"""Incremental builds: what each output read while it was made, and whether any of it changed since.

Deleting everything this package keeps (the manifest's read lists, ROOT/.sitegen-cache) leaves a correct,
slower build: every page is then rendered again and compared by its bytes.
"""
