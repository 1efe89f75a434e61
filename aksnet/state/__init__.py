"""The store: decisions aksnet made (networks, clusters, address allocations, the journal)."""
