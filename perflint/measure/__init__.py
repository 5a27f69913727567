"""Measurement: machine detection, the timing harness and its backends.

Nothing here is imported while linting; NumPy, psutil and pynvml load only when measuring.
"""
