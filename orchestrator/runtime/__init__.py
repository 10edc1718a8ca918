"""Host-side runtime: start a run (or resume one), schedule its tasks, follow their logs."""
