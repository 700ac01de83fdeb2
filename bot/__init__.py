"""The transport-free core: settings, order desk, policy, supervisor, store, notifier, wiring."""
