"""Frame -> faces -> per-face scores: the detectors, the smile and eye models, the crops
they read, the interpreter factory and the model cards, and the per-image pipeline."""
