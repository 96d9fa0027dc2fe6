"""The MQTT client: event stream -> topics, command topics -> Controls.

It never blocks the frame loop: it reads its own bounded EventBus subscription on its own
thread, and paho's network loop runs on another. Connection is asynchronous with
reconnect backoff; on every (re)connect it announces availability, discovery (or its
removal, when turned off), the state, the counts and the last capture (a broker restarted
without persistence has lost them), and re-subscribes; Home Assistant's birth message
(<discovery prefix>/status `online`) gets the announcement again. The state is complete
from the first message (phase ready, no faces, until the loop reports). Capture events
(QoS 1) made while the broker is away are queued (bounded; the oldest are dropped and
counted) and sent after reconnect; messages already handed to paho when a connection
dies are re-sent by paho itself.
"""

from __future__ import annotations

import collections
import json
import logging
import shutil
import ssl
import sys
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from edge.config.mqtt import MqttConfig
from edge.decide.control import Controls
from edge.io import events
from edge.io.mqtt.commands import CommandError, handle_message
from edge.io.mqtt.discovery import (
    COUNTS,
    Announce,
    discovery_messages,
    package_version,
    removal_messages,
)
from edge.io.mqtt.topics import Topics

log = logging.getLogger(__name__)
VERSION = package_version()
CHANGE_MIN_S = 1.0  # a new face or smiling count goes out this soon, not at score_interval_s


class MqttPublisher:
    """start() once; stop() flushes what the loop published, says `offline`, disconnects."""

    def __init__(
        self,
        config: MqttConfig,
        bus: events.EventBus,
        controls: Controls,
        password: str | None = None,
        reconnect_delay: tuple[int, int] = (1, 30),
        configuration_url: str | None = None,
        disk_path: str | None = None,
    ) -> None:
        """configuration_url: the booth's page for HA's device card; disk_path: the photo
        folder, whose free space the state reports."""
        self.config = config
        self.topics = Topics(config.topic_prefix, config.device_id)
        self.controls = controls
        self.connected = threading.Event()
        self.pending: collections.deque[str] = collections.deque(maxlen=config.queue_size)
        self.dropped_captures = 0
        self.connects = 0
        self._subscription = bus.subscribe(maxsize=512)
        self._bus = bus
        self.announce = Announce(
            config.discovery.prefix,
            VERSION,
            config.include_image,
            controls.rearm_threshold,
            configuration_url,
        )
        self.disk_path = disk_path
        self._state = events.state_event(controls.peek(), "ready", 0.0, 0).as_json()
        self._counts: dict[str, int] = dict.fromkeys(COUNTS, 0)
        self._last_capture: str | None = None  # re-sent (retained) on every connect
        self._last_image = b""
        self._last_score = -float("inf")
        self._score_key: tuple[int, int] | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._warned = False
        self._thread = threading.Thread(target=self._consume, name="mqtt-publisher", daemon=True)
        self.client = self._make_client(password, reconnect_delay)

    def _make_client(self, password: str | None, delay: tuple[int, int]) -> mqtt.Client:
        client_id = self.config.client_id or f"smilebooth-{self.config.device_id}"
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        client.will_set(self.topics.availability, "offline", qos=1, retain=True)
        if self.config.username:
            client.username_pw_set(self.config.username, password)
        tls = self.config.tls
        if tls.enabled:
            client.tls_set(
                ca_certs=tls.ca_file or None,
                certfile=tls.cert_file or None,
                keyfile=tls.key_file or None,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
            client.tls_insecure_set(tls.insecure)
        client.reconnect_delay_set(*delay)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def start(self) -> None:
        self.client.connect_async(self.config.host, self.config.port, self.config.keepalive_s)
        self.client.loop_start()
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Flush the events already published, say `offline` (retained), disconnect."""
        self._stop.set()
        self._thread.join(timeout)
        self._bus.unsubscribe(self._subscription)
        if self.connected.is_set():
            info = self.client.publish(self.topics.availability, "offline", qos=1, retain=True)
            try:
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError) as exc:  # the broker went at the last moment
                log.debug("offline not delivered: %s", exc)
        close_client(self.client, timeout)
        if self.pending:
            log.warning("MQTT: %d capture events never reached the broker", len(self.pending))

    # paho callbacks (network thread)
    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _properties: Any
    ) -> None:
        if reason.is_failure:
            self._warn_once(f"MQTT broker {self.config.host}:{self.config.port} refused: {reason}")
            return
        self.connects += 1
        self._warned = False
        log.info("MQTT connected to %s:%s", self.config.host, self.config.port)
        self._announce(client)
        filters = [(topic, 1) for topic in self.topics.command_filters]
        if self.config.discovery.enabled:
            filters.append((self.ha_status, 1))
        client.subscribe(filters)
        with self._lock:  # queued captures first, in order, then live ones
            if not self.pending and self._last_capture is not None:
                client.publish(self.topics.capture, self._last_capture, qos=1, retain=True)
            while self.pending:  # retained: HA shows the last photo after it restarts
                self._last_capture = self.pending.popleft()
                client.publish(self.topics.capture, self._last_capture, qos=1, retain=True)
                client.publish(self.topics.photo_taken, self._last_capture, qos=1)
            if self._last_image:
                client.publish(self.topics.image, self._last_image, qos=0, retain=True)
            self.connected.set()
        self._publish(self.topics.counts, self._counts, retain=True)

    @property
    def ha_status(self) -> str:
        return f"{self.config.discovery.prefix}/status"  # HA's birth and last will

    def _announce(self, client: mqtt.Client) -> None:
        """Availability, the discovery configs (emptied when discovery is off), the state:
        in that order, so HA has the entities before their first state."""
        client.publish(self.topics.availability, "online", qos=1, retain=True)
        enabled = self.config.discovery.enabled
        build = discovery_messages if enabled else removal_messages
        for topic, payload in build(self.topics, self.announce).items():
            client.publish(topic, payload, qos=1, retain=True)
        self._publish_state(live_controls=True, client=client)

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        # paho calls this from inside its `except OSError:`: the exception is still current,
        # and a TLS failure must say why (certificate, host name), not just "unreachable".
        reason = connect_failure(sys.exc_info()[1])
        self._warn_once(
            f"MQTT broker {self.config.host}:{self.config.port} {reason}; "
            "the loop runs on and the connection is retried in the background"
        )

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _properties: Any
    ) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            self._warn_once(f"MQTT connection lost ({reason}); retrying in the background")

    def _on_message(self, client: mqtt.Client, _userdata: Any, message: Any) -> None:
        if message.topic == self.ha_status:
            if message.payload == b"online":  # HA (re)started: announce again
                log.info("Home Assistant is online: discovery announced again")
                self._announce(client)
            return
        name = self.topics.command_name(message.topic)
        if name is None:
            return
        try:
            commands = handle_message(name, message.payload, self.controls)
        except CommandError as exc:
            log.warning("rejected command on %s: %s", message.topic, exc)
            error = events.error_event(str(exc), "command").as_json()
            self._publish_error({**error, "topic": message.topic})
        else:
            for command in commands:
                log.info("command %s=%s", command.name, command.value)
        self._publish_state(live_controls=True)  # the result either way: a UI shows the truth

    def _warn_once(self, message: str) -> None:
        """One warning per outage; the retries after it go to debug."""
        if not self._warned:
            log.warning("%s", message)
            self._warned = True
        else:
            log.debug("%s", message)

    # our thread: the event stream
    def _consume(self) -> None:
        drain_until = None
        while True:
            event = self._subscription.get(timeout=0.2)
            if event is not None:
                self._handle(event)
            if self._stop.is_set():
                drain_until = drain_until or time.monotonic() + 2.0
                if event is None or time.monotonic() > drain_until:
                    return

    def _handle(self, event: events.Event) -> None:
        payload = event.payload
        if isinstance(payload, events.ScoreEvent):
            if self._score_due(payload, event.time):
                self._publish(self.topics.score, {**payload.as_json(), "time": event.time})
        elif isinstance(payload, events.CaptureEvent):
            self._capture(payload)
        elif isinstance(payload, events.StateEvent):
            self._state = payload.as_json()
            self._publish_state()
        elif isinstance(payload, events.ErrorEvent):
            self._publish_error(payload.as_json())
        elif isinstance(payload, events.CountEvent):
            self._counts = {**self._counts, payload.name: payload.value}
            self._publish(self.topics.counts, self._counts, retain=True)

    def _score_due(self, score: events.ScoreEvent, now: float) -> bool:
        """One score message per score_interval_s, and one as soon as the face or smiling
        count changes (at most every CHANGE_MIN_S): HA's Faces, Faces present and Someone
        smiling read the same message, so they always agree. Paced by when the loop
        published each event (a backlog here cannot bunch them); a clock set back
        starts the pacing again."""
        key = (score.faces, sum(1 for face in score.per_face if face.get("smiling")))
        since = now - self._last_score
        if since < 0:
            since = float("inf")
        changed = key != self._score_key and since >= CHANGE_MIN_S
        if since < self.config.score_interval_s and not changed:
            return False
        self._last_score, self._score_key = now, key
        return True

    def _publish_error(self, error: dict[str, Any]) -> None:
        """The error topic is HA's error event entity: it needs an event_type it knows."""
        source = error.get("source")
        kind = source if source in events.ERROR_SOURCES else "other"
        self._publish(self.topics.error, {"event_type": kind, **error})

    def remember_capture(self, capture: events.CaptureEvent) -> None:
        """The last photo of an earlier run (its sidecar): re-sent, retained, on connect,
        so a broker that lost its retained messages learns it again. No photo_taken: it
        is not a new photo. A photo taken in this run replaces it."""
        with self._lock:
            if self._last_capture is None:
                self._last_capture = json.dumps(capture.as_json())

    def _capture(self, capture: events.CaptureEvent) -> None:
        message = json.dumps(capture.as_json())
        with self._lock:
            sent = self.connected.is_set()
            if self.config.include_image:
                self._last_image = capture.photo
            if sent:
                self._last_capture = message
                self.client.publish(self.topics.capture, message, qos=1, retain=True)
                self.client.publish(self.topics.photo_taken, message, qos=1)
            else:
                if len(self.pending) == self.pending.maxlen:
                    self.dropped_captures += 1
                    log.warning(
                        "MQTT capture queue full: dropped the oldest (%d so far)",
                        self.dropped_captures,
                    )
                self.pending.append(message)
        if sent and self.config.include_image and capture.photo:
            # the photo itself (retained: the last one), only when configured and connected
            self.client.publish(self.topics.image, capture.photo, qos=0, retain=True)

    def _publish_state(
        self, live_controls: bool = False, client: mqtt.Client | None = None
    ) -> None:
        """The retained state: the loop's last STATE event as it was sent (a complete one
        before the loop's first), with the photo folder's free space; on a (re)connect or
        a command, with the controls as they are now (the loop reports them next frame)."""
        state = {**self._state, "disk_free_gb": disk_free_gb(self.disk_path)}
        if live_controls:
            controls = self.controls.peek()
            state.update(armed=controls.armed, threshold=controls.threshold)
        if client is not None:  # connecting: `connected` is not set yet
            client.publish(self.topics.state, json.dumps(state), qos=0, retain=True)
        else:
            self._publish(self.topics.state, state, retain=True)

    def _publish(self, topic: str, payload: dict[str, Any], retain: bool = False) -> None:
        if self.connected.is_set():  # state and availability are re-sent on every connect
            self.client.publish(topic, json.dumps(payload), qos=0, retain=retain)


def disk_free_gb(path: str | None) -> float | None:
    """Free space where the photos go, in GB (10^9 bytes); None without a folder. A folder
    not made yet: the disk it will be made on (its nearest existing parent)."""
    if not path:
        return None
    folder = Path(path).expanduser().absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return round(shutil.disk_usage(folder).free / 1e9, 2)
    except OSError:  # unreadable
        return None


def connect_failure(exc: BaseException | None) -> str:
    """Why a connection attempt failed, in words: the ssl reason for a TLS failure."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate rejected: {exc.verify_message or exc.reason}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed: {exc.reason or exc}"
    if isinstance(exc, OSError):
        return f"unreachable ({exc.strerror or exc})"
    return "unreachable"


def close_client(client: mqtt.Client, timeout: float = 3.0) -> None:
    """Disconnect cleanly and release every socket now, not at garbage collection.

    paho's network thread sends DISCONNECT and closes the connection, but `loop_stop()`
    can end that thread first, and the client's wake-up socket pair is only closed by
    `Client.__del__`: a client caught in a reference cycle (callbacks bound to its owner)
    holds three descriptors until the collector runs. paho 2 has no public close, so after
    a bounded wait for the DISCONNECT we do what its `__del__` does.
    """
    sent = client.disconnect() == mqtt.MQTT_ERR_SUCCESS  # not when it never connected
    deadline = time.monotonic() + timeout
    while sent and client.socket() is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    client.loop_stop()
    client._reset_sockets()  # what Client.__del__ does: the connection and the socket pair
