"""A program whose two flagged loops cost very different shares of its run.

perflint flags both loops (PFL101); a profile of the run says which one to fix first:

    python -m cProfile -o profile.out examples/profile_guided.py
    perflint check --profile profile.out examples/profile_guided.py
"""

import numpy as np


def smooth(frame: np.ndarray) -> np.ndarray:
    """Runs on every frame: almost all of the run."""
    out = np.empty_like(frame)
    for i in range(len(frame)):
        out[i] = np.sqrt(frame[i]) * 0.5 + 1.0
    return out


def calibrate(reference: np.ndarray) -> np.ndarray:
    """Runs once, on a short reference signal."""
    gains = np.empty_like(reference)
    for i in range(len(reference)):
        gains[i] = reference[i] * 2.0 + 0.1
    return gains


def main() -> float:
    rng = np.random.default_rng(0)
    gains = calibrate(rng.random(500))
    total = 0.0
    for _ in range(10):
        total += float(smooth(rng.random(20_000)).sum() * gains.mean())
    return total


if __name__ == "__main__":
    print(f"{main():.3f}")
