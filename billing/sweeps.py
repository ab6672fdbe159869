"""The billing deadline sweeps (registered with portal.deadlines on import)."""
