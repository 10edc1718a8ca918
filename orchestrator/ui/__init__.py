"""What people look at: the run model, SVG pictures of a run, and the self-contained HTML report."""
