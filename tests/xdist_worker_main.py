"""The `__main__` file an xdist worker is given (tests/conftest.py): empty on purpose.

pyspark refuses a `__main__` with neither spec nor file, and a `spawn` process pool (quality/writing.py)
runs the parent's `__main__` file again in each worker: this one does nothing there."""
