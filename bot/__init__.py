"""The transport-free core: settings, order desk, policy, accounts, store, notifier, wiring."""
