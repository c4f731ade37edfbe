"""ACL decisions per second: the compiled policy (a level trie) against a plain loop.

Policies of 10, 100 and 1,000 rules shaped like a real fleet (per-device subtrees, shared
command topics, a few denies first); each is asked about the same mix of PUBLISH topics
(most allowed by a rule deep in the list, some denied by default). Single core, no DB.

Target (issue 4): >= 300,000 decisions/s at 1,000 rules, and the 1,000-rule time at most
2x the 10-rule time. Prints the figures, the ratio of the 1,000-rule to the 10-rule time,
and the speed-up over the plain loop last.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from acls.policy import compile_policy  # noqa: E402
from acls.topics import matches  # noqa: E402


def fleet_rules(n: int) -> list[tuple[str, str, str]]:
    rules = [("deny", "all", "devices/+/secrets/#"), ("deny", "publish", "commands/shutdown")]
    devices = max(1, (n - 4) // 2)
    for i in range(devices):
        rules.append(("allow", "publish", f"devices/dev-{i}/telemetry/#"))
        rules.append(("allow", "subscribe", f"devices/dev-{i}/inbox"))
    rules += [("allow", "subscribe", "commands/#"), ("allow", "publish", "status/+")]
    return rules[:n]


def sample_topics(n_rules: int, count: int = 2000) -> list[str]:
    rng = random.Random(42)
    devices = max(1, (n_rules - 4) // 2)
    out = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.6:
            out.append(f"devices/dev-{rng.randrange(devices)}/telemetry/temp")
        elif roll < 0.8:
            out.append(f"devices/dev-{rng.randrange(devices * 2)}/telemetry/a/b")
        elif roll < 0.9:
            out.append("status/online")
        else:
            out.append(f"unrelated/topic/{rng.randrange(100)}")
    return out


def rate(decide, topics: list[str], seconds: float = 2.0) -> float:
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for topic in topics:
            decide(topic)
        done += len(topics)
    return done / elapsed


def loop_decide(rules):
    def decide(topic: str):
        for index, (permission, action, topic_filter) in enumerate(rules):
            if action in ("publish", "all") and matches(topic_filter, topic):
                return permission == "allow", index
        return False, None

    return decide


def main() -> None:
    compiled, looped = {}, {}
    for n in (10, 100, 1000):
        rules = fleet_rules(n)
        topics = sample_topics(n)
        policy = compile_policy(rules, username="dev-0")
        # The two must agree before either is timed.
        for topic in topics:
            decision = policy.decide("publish", topic)
            assert (decision.allowed, decision.rule_index) == loop_decide(rules)(topic), topic
        compiled[n] = rate(lambda t, p=policy: p.decide("publish", t), topics)
        looped[n] = rate(loop_decide(rules), topics, seconds=1.0)
        print(
            f"{n:>5} rules: compiled {compiled[n]:>12,.0f} decisions/s   "
            f"plain loop {looped[n]:>12,.0f} decisions/s"
        )
    growth = compiled[10] / compiled[1000]
    speedup = compiled[1000] / looped[1000]
    print(f"time per decision, 1,000 rules / 10 rules: {growth:.2f}x (target <= 2)")
    print(f"compiled at 1,000 rules: {compiled[1000]:,.0f} decisions/s, {speedup:,.0f}x the plain loop")


if __name__ == "__main__":
    main()
