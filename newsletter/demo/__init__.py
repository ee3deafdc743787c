"""Demo content for ``flask demo``: the sample summary and a generated demo report."""
