"""The module path of quri-parts-oqtopus 1.1.5's device model; it re-exports ours."""
