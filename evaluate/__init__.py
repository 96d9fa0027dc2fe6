"""Evaluation commands: the shipped models measured the way a booth meets faces
(`python -m evaluate.detector_eval`, `evaluate.live_detection_eval`, ...). They read
../shared and import edge/ and, for references, convert/; nothing imports them at run time."""
