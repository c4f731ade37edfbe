from django.apps import AppConfig


class SessionsConfig(AppConfig):
    # MQTT sessions, not django.contrib.sessions (which holds the label "sessions").
    name = "sessions"
    label = "mqtt_sessions"
    verbose_name = "MQTT sessions"
