"""HTTP edges: blueprints per area."""
