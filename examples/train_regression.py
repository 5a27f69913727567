"""A small training script with the performance anti-patterns perflint finds.

Run ``perflint examples/`` to see the findings, ``perflint --measure examples/`` to see what
each one costs on this machine.
"""

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


class JitteredSamples(Dataset):
    """Makes each sample on access, as a dataset that decodes or augments its items does."""

    def __init__(self, features: np.ndarray, targets: np.ndarray) -> None:
        self.features = features
        self.targets = targets

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, index: int):
        rng = np.random.default_rng(index)
        jittered = self.features[index] + rng.normal(0.0, 0.01, self.features.shape[1])
        return torch.from_numpy(jittered).float(), torch.tensor(self.targets[index]).float()


def normalise(features: np.ndarray) -> np.ndarray:
    scaled = np.empty_like(features)
    for i in range(len(features)):
        scaled[i] = np.log1p(features[i]) * 0.5 + 1.0
    return scaled


def whiten(samples: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    rows = []
    for sample in samples:
        rows.append(np.linalg.inv(covariance) @ sample)
    return np.stack(rows)


def train(features: np.ndarray, targets: np.ndarray, epochs: int = 3) -> torch.nn.Module:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    loader = DataLoader(JitteredSamples(features, targets), batch_size=64, shuffle=True)
    model = torch.nn.Linear(features.shape[1], 1).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    for epoch in range(epochs):
        for batch, target in loader:
            batch, target = batch.to(device), target.to(device)
            noise = torch.randn(batch.shape).to(device)
            loss = torch.nn.functional.mse_loss(model(batch + 0.01 * noise).squeeze(1), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    raw = rng.random((1024, 8))
    covariance = np.cov(raw, rowvar=False)
    features = whiten(normalise(raw), covariance)
    train(features, features.sum(axis=1))
