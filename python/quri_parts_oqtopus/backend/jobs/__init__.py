"""The module paths of quri-parts-oqtopus 1.1.5's job backends; they re-export ours."""
