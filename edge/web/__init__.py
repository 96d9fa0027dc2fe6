"""The local web page: gallery, "score my photo", and (with `run`) the live view and controls."""
