"""Per-face scores -> a decision: the group rating, tracking and smoothing, the trigger
policy, the burst, and the operator's controls. Pure: no I/O."""
