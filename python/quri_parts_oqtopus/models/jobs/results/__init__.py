"""The module paths of quri-parts-oqtopus 1.1.5's result models; they re-export ours."""
