"""One `Broker` conformance suite that every adapter must pass (style.md "Absorb" 10).

The cases live once, in `test_broker.py`; each broker supplies only a **driver** (`driver.py`
says what one is): the adapter under test, logged in, plus the few test controls needed to steer
its market: fill an order, hold something, and arm each failure the cases need. Paper is steered
through its own paper-only controls; Kotak and mStock through their loopback simulators
`tests/fakes/kotak_sim.py` and `tests/fakes/mstock_sim.py`. A failure a broker cannot produce
(paper has no IP whitelist) is listed in the driver's `unsupported` with the reason, and its
case is skipped with that reason, never passed silently.

Adding a broker:
1. write `tests/contract/<name>_driver.py` with a class satisfying `driver.BrokerDriver`, steering
   that broker's simulator (`tests/fakes/<name>_sim.py`);
2. in `tests/contract/conftest.py` add a `<name>_driver` fixture that builds it, logs it in and
   closes it, and add `"<name>"` to `BROKERS`.
Every case then runs against it; nothing in `test_broker.py` changes.
"""

__all__: list[str] = []
