"""Ready-to-paste connection snippets for a freshly revealed credential: each runs as
printed (tests/e2e/test_snippets.py runs them against the broker)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from core.broker_ca import ca_file

from .models import MqttUser


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "localhost", parts.port or default_port


def snippet_topic(user: MqttUser) -> str:
    """The topic the snippets publish to (relative to the org namespace)."""
    return f"{user.name}/hello"


def connection_snippets(user: MqttUser, secret: str) -> list[dict]:
    """mosquitto_pub and paho-mqtt over TLS with the secret; MQTT.js over WSS with a token."""
    host, port = _host_port(settings.MQTT_PUBLIC_TLS_URL, 8883)
    topic = f"{user.org_id}/{snippet_topic(user)}"
    # The broker's CA, downloaded from the Overview; with a public CA the system's trust store.
    own_ca = ca_file() is not None
    cafile = "--cafile ca.pem" if own_ca else "--capath /etc/ssl/certs"
    tls_set = 'client.tls_set(ca_certs="ca.pem")' if own_ca else "client.tls_set()"
    return [
        {
            "title": "mosquitto_pub over TLS",
            "language": "shell",
            "code": (
                f"mosquitto_pub -h {host} -p {port} {cafile} \\\n"
                f"  -u '{user.username}' -P '{secret}' \\\n"
                f"  -i '{user.name}-1' -t '{topic}' -m 'hello'"
            ),
        },
        {
            "title": "Python (paho-mqtt) over TLS",
            "language": "python",
            "code": (
                "import paho.mqtt.client as mqtt\n\n"
                f'client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="{user.name}-1")\n'
                f'client.username_pw_set("{user.username}", "{secret}")\n'
                f"{tls_set}\n"
                f'client.connect("{host}", {port})\n'
                "client.loop_start()  # the network loop: without it nothing is sent\n"
                f'message = client.publish("{topic}", "hello", qos=1)\n'
                "message.wait_for_publish(timeout=10)\n"
                "client.disconnect()\n"
                "client.loop_stop()\n"
                "if not message.is_published():\n"
                '    raise SystemExit("Not published: check the address, the credentials and the ACL.")'
            ),
        },
        {
            "title": "Browser (MQTT.js) over WSS, with a temporary token",
            "language": "javascript",
            "code": (
                "// Never ship the permanent secret to a browser: your backend mints a token\n"
                "// (POST /api/v1/tokens with an API key) and hands it to the page.\n"
                f'const {{ token }} = await (await fetch("/your-backend/mqtt-token")).json();\n'
                f'const client = mqtt.connect("{settings.MQTT_PUBLIC_WSS_URL}", {{\n'
                f'  username: "{user.username}",\n'
                "  password: token,\n"
                f'  clientId: "{user.name}-" + crypto.randomUUID(),\n'
                "});\n"
                f'client.on("connect", () => client.subscribe("{user.org_id}/{user.name}/#"));'
            ),
        },
    ]
