"""The ``orch`` command line: thin click commands over the library."""
