"""The edges of the loop: frame sources, photos on disk, image files, events, MQTT,
systemd notifications, the status line and secrets."""
