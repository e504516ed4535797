"""mlkata: auto-graded ML-interview coding exercises.

The toolkit behind ``exercises/`` (learner stubs), ``graders/`` (hidden checks) and ``source/``
(nbgrader notebooks).  See docs/architecture.md for how the pieces fit.
"""
__version__ = "0.1.0"
