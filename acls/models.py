"""Topic filters, ACL rules and rule sets, the compiled policy, lint and simulator.

Filled by a later release."""
